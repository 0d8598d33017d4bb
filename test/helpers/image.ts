import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** The compiled entry points the image runs (jest's global setup builds dist/ first). */
export const serviceEntry = 'dist/main.js';
export const migrateEntry = 'dist/db/migrate.js';
export const healthcheckEntry = 'dist/operations/healthcheck.js';

/** One stage of the Dockerfile: its base, name and instructions (continuation lines joined). */
export type Stage = { from: string; name: string | null; instructions: { keyword: string; args: string }[] };

/** The Dockerfile's build arguments (with their defaults) and stages, in order. */
export function readDockerfile(): { args: Record<string, string>; stages: Stage[] } {
  const lines = readFileSync(path.join(root, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s+(.*)$/.exec(line)!;
    const upper = keyword!.toUpperCase();
    if (upper === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest!)!;
      stages.push({ from: from!.replace(/^\$\{(\w+)\}$/, (_, arg: string) => args[arg] ?? arg), name: name ?? null, instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [name, value] = rest!.split('=');
      args[name!] = value ?? '';
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args: rest! });
    }
  }
  return { args, stages };
}

/** The JSON array of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK … CMD). */
export function execForm(args: string): string[] {
  return JSON.parse(args.slice(args.indexOf('['))) as string[];
}
