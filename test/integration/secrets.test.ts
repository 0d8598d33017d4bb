import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { developmentSecret } from '../../src/auth/secrets';
import { signToken } from '../../src/auth/tokens';
import { serviceEntry } from '../helpers/image';
import { freePort, run, startStack, type Stack } from '../helpers/stack';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'stockroom-secrets-'));
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

describe('the development secret file', () => {
  it('is generated once (32 random bytes, readable by its owner only) and read back after', async () => {
    const file = path.join(scratch, 'once', 'dev-jwt-secret');
    const first = developmentSecret(file);
    expect(first.created).toBe(true);
    expect(Buffer.from(first.secret, 'base64url')).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(developmentSecret(file)).toEqual({ secret: first.secret, created: false });
  });

  it('keeps a secret another process wrote first', async () => {
    const file = path.join(scratch, 'dev-jwt-secret-taken');
    await writeFile(file, 'written-by-the-other-process-0123456789\n');
    expect(developmentSecret(file)).toEqual({ secret: 'written-by-the-other-process-0123456789', created: false });
  });

  it('refuses an empty file rather than signing with nothing', async () => {
    const file = path.join(scratch, 'dev-jwt-secret-empty');
    await writeFile(file, '\n');
    expect(() => developmentSecret(file)).toThrow(/is empty/);
  });
});

describe('a development server without JWT_SECRET, as `npm run start:api` starts it', () => {
  let stack: Stack;
  let adminPort: number;
  const file = () => path.join(scratch, 'stack', 'dev-jwt-secret');
  beforeAll(async () => {
    adminPort = await freePort();
    stack = await startStack('dev-secret', {
      env: { NODE_ENV: 'development', LOG_LEVEL: 'info', JWT_SECRET: '', JWT_DEV_SECRET_FILE: file() },
      apiEnv: { ADMIN_PORT: String(adminPort) },
    });
  });
  afterAll(async () => stack.stop());

  const cli = (args: string[]) => run('node', ['bin/stockroom.js', ...args], { ...stack.env, STOCKROOM_URL: stack.url });

  it('prints the generated secret once at start, marked as development only', () => {
    const { secret } = developmentSecret(file());
    const marked = stack
      .logs()
      .split('\n')
      .filter((line) => line.includes('DEVELOPMENT ONLY'));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toContain(secret);
  });

  it('takes the tokens `stockroom token` mints from the same file, and the CLI calls it with them', async () => {
    const minted = await cli(['token', '--role', 'admin']);
    expect(minted.code).toBe(0);
    const response = await fetch(`${stack.url}/api/v1/warehouses`, { headers: { authorization: `Bearer ${minted.stdout.trim()}` } });
    expect(response.status).toBe(200);
    const listed = await cli(['dlq', 'list']);
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('serves /metrics and /docs on the admin port, on loopback, and not on the API port', async () => {
    for (const path of ['/metrics', '/docs/json']) {
      expect({ path, status: (await fetch(`http://127.0.0.1:${adminPort}${path}`)).status }).toEqual({ path, status: 200 });
      expect({ path, status: (await fetch(`${stack.url}${path}`)).status }).toEqual({ path, status: 404 });
    }
    expect(stack.logs()).toContain('"host":"127.0.0.1"');
  });

  it('refuses the fixed development secret of earlier versions', async () => {
    const old = signToken('stockroom-local-development-secret', { sub: 'anyone', role: 'admin' });
    expect((await fetch(`${stack.url}/api/v1/warehouses`, { headers: { authorization: `Bearer ${old}` } })).status).toBe(401);
  });
});

/** Starts an api process as the image does (`node dist/main.js --role api`), to its end: these ones stop at start. */
const startApi = (env: Record<string, string>) =>
  run(process.execPath, [serviceEntry, '--role', 'api'], { PORT: '0', MIGRATE_ON_START: 'false', ...env }, 30_000);

describe('a development secret that cannot be kept', () => {
  it('stops the service and the CLI with a message that says to set JWT_SECRET', async () => {
    const blocker = path.join(scratch, 'a-file-not-a-folder');
    await writeFile(blocker, '');
    const env = { NODE_ENV: 'development', JWT_SECRET: '', JWT_DEV_SECRET_FILE: path.join(blocker, 'dev-jwt-secret') };
    const [started, minted] = await Promise.all([startApi(env), run('node', ['bin/stockroom.js', 'token', '--role', 'admin'], env)]);
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/JWT_SECRET: not set, and the development secret cannot be kept in .*; set JWT_SECRET/);
    expect(minted.code).toBe(2);
    expect(minted.stderr).toMatch(/set JWT_SECRET/);
  });
});

describe('NODE_ENV=production', () => {
  it('refuses to start without a secret, or with a published, short or repetitive one, or an unusable key file, naming the variable and why', async () => {
    const notAKey = path.join(scratch, 'not-a-key.pem');
    await writeFile(notAKey, 'not a key');
    const strong = randomBytes(32).toString('base64url');
    const cases: [string, Record<string, string>, RegExp][] = [
      ['no JWT_SECRET', { JWT_SECRET: '' }, /JWT_SECRET: must be set in production/],
      ['the compose default', { JWT_SECRET: 'compose-local-secret-change-me' }, /JWT_SECRET: is a published default/],
      ['16 bytes of one letter', { JWT_SECRET: 'aaaaaaaaaaaaaaaa' }, /JWT_SECRET: is 16 bytes long; it needs at least 32/],
      ['64 bytes of one letter', { JWT_SECRET: 'a'.repeat(64) }, /JWT_SECRET: repeats a short pattern/],
      ['a key file that holds no key', { JWT_SECRET: strong, JWT_PUBLIC_KEY_FILE: notAKey }, /JWT_PUBLIC_KEY_FILE: .* holds no PEM public key/],
    ];
    const results = await Promise.all(cases.map(([, env]) => startApi({ NODE_ENV: 'production', ...env })));
    expect(results.map((result, index) => ({ what: cases[index]![0], code: result.code, says: cases[index]![2].test(result.stderr) }))).toEqual(
      cases.map(([what]) => ({ what, code: 2, says: true })),
    );
  });
});
