import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { documentValidator, documentedExamples } from '../helpers/openapi-validator';

const root = path.resolve(__dirname, '../..');
const clientDir = path.join(root, 'clients/typescript');
const committed = (name: string) => readFileSync(path.join(clientDir, name), 'utf8');

describe('the OpenAPI document and the typed client generated from it', () => {
  it('are committed as generated from the routes (run `npm run generate:client` after changing a route or schema)', () => {
    // openapi-typescript is an ES module jest's CommonJS transform cannot load; the script runs apart.
    const check = spawnSync(path.join(root, 'node_modules/.bin/tsx'), ['scripts/client.ts', '--check'], { cwd: root, encoding: 'utf8' });
    expect({ status: check.status, stderr: check.stderr.trim() }).toEqual({ status: 0, stderr: '' });
    expect(check.stdout).toContain('up to date');
  });

  it('has examples, every one of which matches its schema', () => {
    const document = JSON.parse(committed('openapi.json')) as Parameters<typeof documentedExamples>[0];
    const examples = documentedExamples(document);
    expect(examples.length).toBeGreaterThan(100);
    const validate = documentValidator(document);
    expect(examples.flatMap((example) => validate(example.schemaPointer, example.value).map((error) => `${example.where}: ${error}`))).toEqual([]);
  });

  it('gives each component a named type', () => {
    for (const name of ['Reservation', 'Warehouse', 'Product', 'Allocation', 'AllocationAccepted', 'Error', 'NewWarehouse', 'ReserveRequest']) {
      expect(committed('schema.d.ts')).toContain(`export type ${name} = components['schemas']['${name}'];`);
    }
  });
});
