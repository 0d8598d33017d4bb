import { readFileSync } from 'node:fs';
import path from 'node:path';
import { minVersion, satisfies } from 'semver';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: Record<string, string> | string[] }>;
};

describe('the Node version package.json promises', () => {
  it('is one every locked dependency accepts, so an install prints no EBADENGINE', () => {
    const oldest = minVersion(manifest.engines.node)!.version;
    const refusing = Object.entries(lock.packages)
      .filter(([location]) => location !== '')
      .flatMap(([location, entry]) => {
        const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return wanted !== undefined && !satisfies(oldest, wanted) ? [`${location.replace(/^.*node_modules\//, '')}@${entry.version} needs node ${wanted}`] : [];
      });
    expect(refusing).toEqual([]);
  });
});
