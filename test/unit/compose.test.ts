import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

const root = path.resolve(__dirname, '../..');
const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The `command:` of each service, as written in docker-compose.yml (JSON arrays). */
function commands(): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  let service = '';
  for (const line of compose.split('\n')) {
    const name = /^ {2}([a-z-]+):\s*$/.exec(line);
    if (name) service = name[1]!;
    const command = /^ {4}command: (\[.*\])\s*$/.exec(line);
    if (command) found[service] = JSON.parse(command[1]!) as string[];
  }
  return found;
}

describe('docker-compose.yml', () => {
  it('runs the same npm scripts the tests start the stack with', () => {
    expect(commands()).toEqual({
      migrate: ['npm', 'run', 'migrate'],
      api: ['npm', 'run', 'start:api'],
      worker: ['npm', 'run', 'start:worker'],
    });
    expect(scripts['start:api']).toBe('tsx src/main.ts --role api');
    expect(scripts['start:worker']).toBe('tsx src/main.ts --role worker');
    expect(scripts.migrate).toBe('tsx src/db/migrate.ts');
  });

  it('has Postgres 15, RabbitMQ 3.10 with its management UI, health checks and named volumes', () => {
    expect(compose).toMatch(/image: postgres:15\n/);
    expect(compose).toMatch(/image: rabbitmq:3\.10-management\n/);
    expect(compose).toContain('"15672:15672"');
    expect(compose).toContain('pg_isready');
    expect(compose).toContain('rabbitmq-diagnostics');
    expect(compose).toContain('/health/ready');
    expect(compose).toMatch(/condition: service_completed_successfully/);
    expect(compose).toMatch(/\nvolumes:\n {2}postgres-data:\n {2}rabbitmq-data:\n/);
  });

  it('runs in development with a documented secret, which production refuses', () => {
    expect(compose).toContain('NODE_ENV: ${NODE_ENV:-development}');
    const secret = /JWT_SECRET: \$\{JWT_SECRET:-([^}]+)\}/.exec(compose)?.[1];
    expect(secret).toBe('compose-local-secret-change-me');
    expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET: secret }).JWT_SECRET).toBe(secret);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret })).toThrow(/JWT_SECRET: is a published default/);
  });
});
