import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}

/**
 * The folder of Stockroom's package.json (the repository, or /app in the image), where drizzle/
 * and bench/ live. Found by walking up, so it is the same from src/ under tsx and from dist/.
 */
export const packageRoot = findPackageRoot(__dirname);

/** Stockroom's version, as package.json states it. */
export const packageVersion = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
