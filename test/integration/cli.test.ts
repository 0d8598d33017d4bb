import { spawn } from 'node:child_process';
import { writeFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqplib from 'amqplib';
import { v7 as uuidv7 } from 'uuid';
import { waitFor } from '../helpers/allocations';
import { freePort, projectRoot, run, startStack, type RunResult, type Stack } from '../helpers/stack';

let stack: Stack;
let scratch: string;
beforeAll(async () => {
  stack = await startStack('cli');
  scratch = await mkdtemp(path.join(tmpdir(), 'stockroom-cli-'));
}, 120_000);
// unset when startStack failed
afterAll(async () => (stack as Stack | undefined)?.stop());

/** The environment `stockroom` runs with: the stack's service, secret and database. */
const cliEnv = () => ({ STOCKROOM_URL: stack.url, JWT_SECRET: stack.env.JWT_SECRET!, DATABASE_URL: stack.env.DATABASE_URL! });

/** Runs `stockroom …` as a child process, the way a user does (bin/stockroom.js), without a terminal. */
function stockroom(...args: string[]): Promise<RunResult> {
  return run('node', ['bin/stockroom.js', ...args], cliEnv());
}

/** Runs `stockroom …` with `env` added to its environment. */
function stockroomWith(env: Record<string, string>, ...args: string[]): Promise<RunResult> {
  return run('node', ['bin/stockroom.js', ...args], { ...cliEnv(), ...env });
}

/**
 * Runs `stockroom …` on a terminal (a pseudo-terminal made by `script`) and types `answer` once it
 * asks; resolves to its exit code and everything the terminal showed.
 */
function stockroomOnTerminal(answer: string, ...args: string[]): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', ['node', 'bin/stockroom.js', ...args].join(' '), '/dev/null'], {
      cwd: projectRoot,
      env: { ...process.env, ...cliEnv() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      if (!answered && screen.includes('[y/N]')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

/** Parses stdout as the one JSON document --json promises. */
function jsonOf(result: RunResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr: ${result.stderr}`);
  }
}

/** A dead letter of an unparseable message, made the way the worker makes them; resolves to its id. */
async function deadLetter(): Promise<string> {
  const marker = uuidv7();
  const connection = await amqplib.connect(stack.vhost.url);
  try {
    const channel = await connection.createChannel();
    channel.sendToQueue('stockroom.allocations', Buffer.from(`{not json ${marker}`));
    await channel.close();
  } finally {
    await connection.close();
  }
  return waitFor('the dead letter', async () => {
    const listed = jsonOf(await stockroom('--json', 'dlq', 'list', '--limit', '500'));
    return (listed as { id: string; payload: { raw?: string } }[]).find((letter) => letter.payload.raw?.includes(marker))?.id;
  });
}

/** Fails with the command's output (and the stack's logs) when it did not exit as expected. */
function expectExit(result: RunResult, code: number): void {
  if (result.code !== code)
    throw new Error(`expected exit ${code}, got ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}\nstack:\n${stack.logs()}`);
}

async function writeJob(name: string, content: string): Promise<string> {
  const file = path.join(scratch, name);
  await writeFile(file, content);
  return file;
}

describe('stockroom token', () => {
  it('prints only a token, which the API accepts for its role', async () => {
    const admin = await stockroom('token', '--role', 'admin', '--sub', 'ops-cli');
    expectExit(admin, 0);
    const token = admin.stdout.trim();
    expect(admin.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const ok = await fetch(`${stack.url}/api/v1/admin/dead-letters`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);

    const service = (await stockroom('token', '--role', 'service', '--expires', '5m')).stdout.trim();
    const refused = await fetch(`${stack.url}/api/v1/admin/dead-letters`, { headers: { authorization: `Bearer ${service}` } });
    expect(refused.status).toBe(403);
  });

  it('refuses an unknown role as bad usage (exit 2)', async () => {
    const result = await stockroom('token', '--role', 'root');
    expectExit(result, 2);
    expect(result.stderr).toContain('service, admin');
    expect(result.stdout).toBe('');
  });
});

describe('stockroom seed', () => {
  it('creates demo warehouses, products and lots through the API, and adds nothing on a second run', async () => {
    const first = await stockroom('seed', '--size', '12');
    expectExit(first, 0);
    expect(first.stdout).toMatch(/^seeded 3 warehouses \(0 existed\), 12 products \(0 existed\), \d+ lots holding \d+ units\n$/);
    const token = (await stockroom('token', '--role', 'service')).stdout.trim();
    const stock = await fetch(`${stack.url}/api/v1/inventory/demo-0001`, { headers: { authorization: `Bearer ${token}` } });
    expect(stock.status).toBe(200);

    const again = await stockroom('seed', '--size', '12');
    expectExit(again, 0);
    expect(again.stdout).toContain('0 warehouses (3 existed), 0 products (12 existed), 0 lots holding 0 units');
  });
});

describe('stockroom enqueue and status', () => {
  it('enqueues a job, waits with progress on stderr, prints the result as a table and exits 0', async () => {
    const result = await stockroom(
      'enqueue',
      '--product',
      'demo-0001',
      '--quantity',
      '3',
      '--mode',
      'allocate',
      '--priority',
      'high',
      '--reference',
      'order-cli-1',
      '--wait',
    );
    expectExit(result, 0);
    expect(result.stderr).toMatch(/allocation [0-9a-f-]{36} accepted/);
    const [summary, , header, row] = result.stdout.split('\n');
    expect(summary).toMatch(/^allocation [0-9a-f-]{36}: succeeded \(allocate high, reference order order-cli-1, allocated 3 of 3, \d+ ms/);
    expect(header).toMatch(/^PRODUCT\s+WAREHOUSE\s+LOT\s+LOT NUMBER\s+QUANTITY$/);
    expect(row).toMatch(/^demo-0001\s+wh-00\d\s+[0-9a-f-]{36}\s+L-0001-\d\s+3$/);

    const id = summary!.split(' ')[1]!.replace(':', '');
    const status = await stockroom('--json', 'status', id);
    expectExit(status, 0);
    expect(JSON.parse(status.stdout)).toMatchObject({ allocationId: id, status: 'succeeded', result: { totalAllocated: 3 } });
  });

  it('enqueues from a JSON file; a job that cannot be served prints its failed lines and exits 1', async () => {
    const file = await writeJob(
      'short.json',
      JSON.stringify({
        items: [{ productId: 'demo-0002', quantity: 1_000_000 }],
        mode: 'allocate',
        referenceId: 'order-cli-2',
        referenceType: 'order',
      }),
    );
    const result = await stockroom('enqueue', '--file', file, '--wait');
    expectExit(result, 1);
    expect(result.stdout).toMatch(/: failed \(/);
    expect(result.stdout).toMatch(/^demo-0002\s+1000000\s+\d+\s+insufficient_inventory\s+/m);
  });

  it('prints the job without waiting: its id and status', async () => {
    const result = await stockroom('enqueue', '-p', 'demo-0003', '-q', '1', '--key', `cli-${uuidv7()}`);
    expectExit(result, 0);
    expect(result.stdout).toMatch(/^allocation [0-9a-f-]{36}: queued \(idempotency key cli-/);
  });

  it('without a terminal, --wait writes a progress line per --progress-interval, not one per poll', async () => {
    const worker = stack.processes.find((process) => process.role === 'worker')!.child;
    // a frozen worker leaves the job queued for as long as the wait lasts
    process.kill(-worker.pid!, 'SIGSTOP');
    try {
      const enqueued = await stockroom('enqueue', '-p', 'demo-0003', '-q', '1');
      expectExit(enqueued, 0);
      const id = enqueued.stdout.match(/^allocation ([0-9a-f-]{36}):/)![1]!;
      const started = Date.now();
      const waited = await stockroom('--progress-interval', '1', 'status', id, '--wait', '--wait-timeout', '4');
      const seconds = (Date.now() - started) / 1000;
      expectExit(waited, 1);
      const lines = waited.stderr.split('\n').filter((line) => line.startsWith(`allocation ${id}: queued (`));
      // polled every 0.2 s, so unthrottled it would be some twenty lines
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.length).toBeLessThanOrEqual(Math.ceil(seconds));
      expect(lines[0]).toBe(`allocation ${id}: queued (1s)`);
      expect(waited.stderr).toContain(`allocation ${id} is still queued after 4s`);
    } finally {
      process.kill(-worker.pid!, 'SIGCONT');
    }
  });

  it('answers exit 4 with the error code for an unknown job', async () => {
    const result = await stockroom('status', uuidv7());
    expectExit(result, 4);
    expect(result.stderr).toMatch(/^stockroom: 404 NOT_FOUND: Allocation [0-9a-f-]{36} not found/);
  });

  it('answers exit 4 when the token lacks the role', async () => {
    const service = (await stockroom('token', '--role', 'service')).stdout.trim();
    const result = await stockroom('--token', service, 'dlq', 'list');
    expectExit(result, 4);
    expect(result.stderr).toContain('403 FORBIDDEN');
    expect(result.stderr).not.toContain(service);
  });
});

describe('stockroom enqueue --file jobs.ndjson', () => {
  const line = (i: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ items: [{ productId: 'demo-0004', quantity: 1 }], mode: 'allocate', referenceId: `order-ndjson-${i}`, referenceType: 'order', ...extra });

  async function jobsUnder(pattern: string): Promise<{ status: string; key: string }[]> {
    const { rows } = await stack.db.pool.query<{ status: string; key: string }>(
      `select status, idempotency_key as key from allocation_requests where idempotency_key like $1 order by idempotency_key`,
      [pattern],
    );
    return rows;
  }

  it('sends every line in batches, the worker serves them, and running the same file again queues nothing twice', async () => {
    expectExit(await stockroom('seed', '--size', '12'), 0);
    const lines = Array.from({ length: 25 }, (_, i) => line(i));
    lines[3] = line(3, { idempotencyKey: 'ndjson-own-key' });
    const file = await writeJob('jobs.ndjson', `${lines.slice(0, 10).join('\n')}\n\n${lines.slice(10).join('\r\n')}\n`);
    const first = await stockroom('enqueue', '--file', file, '--batch-size', '10');
    expectExit(first, 0);
    expect(first.stdout.split('\n')[0]).toBe(`${file}: 25 jobs queued, 0 already queued under their keys, 0 refused`);
    const derived = await jobsUnder('jobs.ndjson:%');
    expect(derived).toHaveLength(24);
    // the key of a line: the file name, its line number (the blank line 11 counted) and the hash of its request
    expect(derived.map((job) => job.key.split(':')[1])).toContain('26');
    expect(await jobsUnder('ndjson-own-key')).toHaveLength(1);
    await waitFor('every job of the file served', async () => {
      const jobs = await jobsUnder('jobs.ndjson:%');
      return jobs.every((job) => job.status === 'succeeded') ? true : undefined;
    });

    const again = await stockroom('--json', 'enqueue', '--file', file);
    expectExit(again, 0);
    expect(JSON.parse(again.stdout)).toMatchObject({ queued: 0, replayed: 25, refused: 0 });
    expect(await jobsUnder('jobs.ndjson:%')).toHaveLength(24);
  });

  it('exits 4 and names each line the service refused; the others are queued', async () => {
    const file = await writeJob('reused.jsonl', [line(100, { idempotencyKey: 'ndjson-own-key' }), line(101)].join('\n'));
    const result = await stockroom('enqueue', '--file', file);
    expectExit(result, 4);
    expect(result.stdout).toContain('1 jobs queued, 0 already queued under their keys, 1 refused');
    expect(result.stdout).toMatch(/^1\s+ndjson-own-key\s+422\s+IDEMPOTENCY_MISMATCH\s+/m);
  });

  it('refuses a file with an invalid line before sending anything (exit 2), naming the line', async () => {
    const file = await writeJob('bad.ndjson', [line(200), '{"items": []}', 'not json'].join('\n'));
    const result = await stockroom('enqueue', '--file', file);
    expectExit(result, 2);
    expect(result.stderr).toContain('line 2: items: ');
    expect(result.stderr).toContain('line 3: not JSON');
    expect(await jobsUnder('bad.ndjson:%')).toHaveLength(0);
  });
});

describe('bad input to the CLI', () => {
  it.each([
    ['a missing file', () => Promise.resolve(path.join(scratch, 'absent.json')), /Cannot read .*absent\.json: no such file/],
    ['a file that is not JSON', async () => writeJob('broken.json', '{"items": ['), /broken\.json is not valid JSON/],
    [
      'a request the API would refuse',
      async () => writeJob('invalid.json', JSON.stringify({ items: [{ productId: 'demo-0001', quantity: 0 }] })),
      /items\.0\.quantity/,
    ],
  ])('exits 2 on %s and sends nothing', async (_name, makeFile, message) => {
    const result = await stockroom('enqueue', '--file', await makeFile());
    expectExit(result, 2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('exits 2 on an unknown command or a bad option value', async () => {
    expectExit(await stockroom('frobnicate'), 2);
    expectExit(await stockroom('enqueue', '--product', 'demo-0001', '--quantity', 'many'), 2);
    expectExit(await stockroom('dlq', 'purge'), 2);
  });
});

describe('when the service is down', () => {
  it('exits 3 and names the address it could not reach', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await stockroom('--url', url, 'status', uuidv7());
    expectExit(result, 3);
    expect(result.stderr).toContain(`Cannot reach Stockroom at ${url}: ECONNREFUSED`);
  });
});

describe('stockroom reconcile', () => {
  it('exits 0 when every lot matches the ledger and 1, naming the lot, when one does not', async () => {
    expectExit(await stockroom('seed', '--size', '1'), 0);
    const clean = await stockroom('reconcile');
    expectExit(clean, 0);
    expect(clean.stdout).toMatch(/^reconciled: \d+ lots match the ledger\nreconciled: \d+ serial-tracked lots match their units\n$/);

    const { rows } = await stack.db.pool.query<{ id: string }>(
      `update inventory_items set quantity = quantity + 1 where id = (select id from inventory_items order by id limit 1) returning id`,
    );
    try {
      const drifted = await stockroom('reconcile');
      expectExit(drifted, 1);
      expect(drifted.stdout).toContain(`lot ${rows[0]!.id}`);
      expect(drifted.stdout).toMatch(/1 of \d+ lots differ from the ledger/);
    } finally {
      await stack.db.pool.query(`update inventory_items set quantity = quantity - 1 where id = $1`, [rows[0]!.id]);
    }
  });
});

describe('stockroom dlq', () => {
  it('lists, shows and purges a dead-lettered message', async () => {
    const connection = await amqplib.connect(stack.vhost.url);
    try {
      const channel = await connection.createChannel();
      channel.sendToQueue('stockroom.allocations', Buffer.from('{not json'));
      await channel.close();
    } finally {
      await connection.close();
    }
    const listed = await waitFor('the dead letter', async () => {
      const result = await stockroom('dlq', 'list');
      return result.stdout.includes('unparseable') ? result : undefined;
    });
    expectExit(listed, 0);
    expect(listed.stdout).toMatch(/^ID\s+QUEUE\s+ALLOCATION\s+REASON\s+ATTEMPTS\s+CREATED$/m);
    const id = listed.stdout.split('\n')[1]!.split(/\s+/)[0]!;

    const shown = await stockroom('dlq', 'show', id);
    expectExit(shown, 0);
    expect(shown.stdout).toMatch(/^reason\s+unparseable$/m);
    expect(shown.stdout).toContain('"raw": "{not json"');

    expectExit(await stockroom('dlq', 'purge', id, '--yes'), 0);
    const empty = await stockroom('dlq', 'list');
    expect(empty.stdout).toBe('no open dead letters\n');
    const again = await stockroom('dlq', 'purge', id, '--yes');
    expectExit(again, 4);
    expect(again.stderr).toContain('404 NOT_FOUND');
  });

  it('replays a dead-lettered job once its cause is fixed, and the job then succeeds', async () => {
    expectExit(await stockroom('seed', '--size', '1'), 0);
    // A fault that is not transient: the worker dead-letters the job at once instead of retrying it.
    await stack.db.pool.query(`create function refuse_results() returns trigger language plpgsql as $$
                                 begin raise exception 'results are refused while the disk is replaced'; end $$`);
    await stack.db.pool.query('create trigger refuse_results before insert on allocation_results for each row execute function refuse_results()');
    let allocationId: string;
    let letterId: string;
    try {
      const enqueued = await stockroom('enqueue', '-p', 'demo-0001', '-q', '1', '--reference', 'order-cli-replay');
      expectExit(enqueued, 0);
      allocationId = enqueued.stdout.match(/^allocation ([0-9a-f-]{36}):/)![1]!;
      const listed = await waitFor('the job to be dead-lettered', async () => {
        const result = await stockroom('dlq', 'list');
        return result.stdout.includes(allocationId) ? result : undefined;
      });
      letterId = listed.stdout
        .split('\n')
        .find((line) => line.includes(allocationId))!
        .split(/\s+/)[0]!;
      const failed = await stockroom('status', allocationId);
      expect(failed.stdout).toContain('dead_lettered');
    } finally {
      await stack.db.pool.query('drop trigger refuse_results on allocation_results');
      await stack.db.pool.query('drop function refuse_results()');
    }

    expectExit(await stockroom('dlq', 'replay', letterId, '--yes'), 0);
    const served = await waitFor('the replayed job to succeed', async () => {
      const result = await stockroom('status', allocationId);
      return result.stdout.includes(': succeeded') ? result : undefined;
    });
    expectExit(served, 0);
    expect((await stockroom('dlq', 'list')).stdout).not.toContain(allocationId);
  });
});

describe('destructive commands', () => {
  it('without a terminal and without --yes, purge and replay refuse with exit 5 and change nothing', async () => {
    const id = await deadLetter();
    for (const args of [
      ['dlq', 'purge', id],
      ['dlq', 'purge', '--all'],
      ['dlq', 'replay', id],
    ]) {
      const refused = await stockroom(...args);
      expectExit(refused, 5);
      expect(refused.stderr).toMatch(
        /^stockroom: Refusing to (purge|replay) .* without confirmation: there is no terminal to ask on; pass --yes\. Nothing changed\.\n$/,
      );
      expect(refused.stdout).toBe('');
      const asJson = await stockroom('--json', ...args);
      expectExit(asJson, 5);
      expect(jsonOf(asJson)).toEqual({ error: { code: 'NOT_CONFIRMED', message: expect.stringContaining('pass --yes'), exitCode: 5 } });
    }
    const still = jsonOf(await stockroom('--json', 'dlq', 'show', id));
    expect(still).toMatchObject({ id, status: 'open', replayedAt: null });
    expectExit(await stockroom('dlq', 'purge', id, '--yes'), 0);
  });

  it('on a terminal, asks first: "n" changes nothing, "y" purges', async () => {
    const id = await deadLetter();
    const declined = await stockroomOnTerminal('n', 'dlq', 'purge', id);
    expect(declined.screen).toContain(`About to purge dead letter ${id} (this cannot be undone). Go ahead? [y/N]`);
    expect(declined.screen).toContain('Not confirmed. Nothing changed.');
    expect(declined.code).toBe(5);
    expectExit(await stockroom('dlq', 'show', id), 0);

    const confirmed = await stockroomOnTerminal('y', 'dlq', 'purge', '--all');
    expect(confirmed.screen).toMatch(/About to purge \d+ open dead letters? \(this cannot be undone\)\. Go ahead\? \[y\/N\]/);
    expect(confirmed.code).toBe(0);
    expectExit(await stockroom('dlq', 'show', id), 4);
  });

  it('purge --all --yes purges every open dead letter and says which', async () => {
    const ids = [await deadLetter(), await deadLetter()];
    const purged = await stockroom('--json', 'dlq', 'purge', '--all', '--yes');
    expectExit(purged, 0);
    const answer = jsonOf(purged);
    expect(answer).toEqual({ purged: answer.ids.length, ids: expect.arrayContaining(ids), failed: [] });
    expect(jsonOf(await stockroom('--json', 'dlq', 'list'))).toEqual([]);
  });
});

describe('--json', () => {
  // a dozen runs of the CLI, each a process start: slow on a loaded machine
  it('prints one JSON document for every command', async () => {
    const token = jsonOf(await stockroom('--json', 'token', '--role', 'service', '--sub', 'checkout', '--expires', '5m'));
    expect(token).toEqual({ token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), sub: 'checkout', role: 'service', expiresAt: expect.any(String) });

    const seeded = await stockroom('--json', 'seed', '--size', '2');
    expectExit(seeded, 0);
    expect(jsonOf(seeded)).toEqual({
      warehouses: { created: expect.any(Number), existed: expect.any(Number) },
      products: expect.any(Object),
      lots: expect.any(Number),
      units: expect.any(Number),
    });

    const accepted = jsonOf(await stockroom('--json', 'enqueue', '-p', 'demo-0001', '-q', '1'));
    expect(accepted).toMatchObject({ allocationId: expect.any(String), status: 'queued' });
    const waited = jsonOf(await stockroom('--json', 'enqueue', '-p', 'demo-0001', '-q', '1', '--wait'));
    expect(waited).toMatchObject({ allocationId: expect.any(String), status: 'succeeded' });
    expect(jsonOf(await stockroom('--json', 'status', accepted.allocationId))).toMatchObject({ allocationId: accepted.allocationId });

    const id = await deadLetter();
    expect(jsonOf(await stockroom('--json', 'dlq', 'list'))).toEqual(expect.arrayContaining([expect.objectContaining({ id })]));
    expect(jsonOf(await stockroom('--json', 'dlq', 'show', id))).toMatchObject({ id, reason: 'unparseable' });
    const replayed = await stockroom('--json', 'dlq', 'replay', id, '--yes');
    expectExit(replayed, 0);
    expect(jsonOf(replayed)).toMatchObject({ id, status: 'replayed' });
    const other = await deadLetter();
    expect(jsonOf(await stockroom('--json', 'dlq', 'purge', other, '--yes'))).toEqual({ purged: 1, ids: [other], failed: [] });

    const reconciled = await stockroom('--json', 'reconcile');
    expectExit(reconciled, 0);
    expect(jsonOf(reconciled)).toEqual({
      clean: true,
      lotsChecked: expect.any(Number),
      differences: [],
      serialLots: { lotsChecked: expect.any(Number), differences: [] },
    });
  }, 180_000);

  it('prints a failure as a JSON error with the exit code, on stdout, and its line on stderr', async () => {
    const missing = uuidv7();
    const notFound = await stockroom('--json', 'status', missing);
    expectExit(notFound, 4);
    expect(jsonOf(notFound)).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining(missing), exitCode: 4 } });
    expect(notFound.stderr).toContain('404 NOT_FOUND');

    const usage = await stockroom('--json', 'frobnicate');
    expectExit(usage, 2);
    expect(jsonOf(usage)).toEqual({ error: { code: 'USAGE', message: "unknown command 'frobnicate'", exitCode: 2 } });

    const down = await stockroom('--json', '--url', `http://127.0.0.1:${await freePort()}`, 'dlq', 'list');
    expectExit(down, 3);
    expect(jsonOf(down).error).toMatchObject({ code: 'UNREACHABLE', exitCode: 3 });
  });
});

describe('how the CLI finds the database', () => {
  const elsewhere = () => {
    const url = new URL(stack.env.DATABASE_URL!);
    url.pathname = `/stockroom_absent_${uuidv7().replace(/-/g, '').slice(-12)}`;
    return url;
  };

  it('takes --database-url, else STOCKROOM_DATABASE_URL, else DATABASE_URL', async () => {
    const absent = elsewhere().toString();
    // STOCKROOM_DATABASE_URL wins over DATABASE_URL, --database-url over both
    expectExit(await stockroomWith({ STOCKROOM_DATABASE_URL: stack.env.DATABASE_URL!, DATABASE_URL: absent }, 'reconcile'), 0);
    expectExit(await stockroomWith({ STOCKROOM_DATABASE_URL: absent }, '--database-url', stack.env.DATABASE_URL!, 'reconcile'), 0);
    expectExit(await stockroomWith({ STOCKROOM_DATABASE_URL: absent }, 'reconcile'), 3);
  });

  it('names a database that does not exist, the server and the setting that named it, and how to fix it', async () => {
    const absent = elsewhere();
    const name = absent.pathname.slice(1);
    const server = `${absent.hostname}:${absent.port || '5432'}`;
    for (const [env, args, source] of [
      [{ DATABASE_URL: absent.toString() }, [], 'DATABASE_URL'],
      [{ STOCKROOM_DATABASE_URL: absent.toString() }, [], 'STOCKROOM_DATABASE_URL'],
      [{}, ['--database-url', absent.toString()], '--database-url'],
    ] as const) {
      const result = await stockroomWith(env, ...args, 'reconcile');
      expectExit(result, 3);
      expect(result.stderr).toBe(
        `stockroom: The database "${name}" does not exist on ${server} (named by ${source}): ` +
          'point --database-url (or STOCKROOM_DATABASE_URL) at the database the service uses, its DATABASE_URL\n',
      );
    }
    const asJson = await stockroomWith({}, '--json', '--database-url', absent.toString(), 'reconcile');
    expect(jsonOf(asJson).error).toMatchObject({ code: 'DATABASE_NOT_FOUND', exitCode: 3 });
  });

  it('refuses a database URL that is not postgres:// as bad usage', async () => {
    const result = await stockroomWith({}, '--database-url', 'mysql://localhost/stockroom', 'reconcile');
    expectExit(result, 2);
    expect(result.stderr).toContain('The database URL from --database-url is not a postgres:// URL');
  });
});

describe('start-up', () => {
  /**
   * What a run loads: a preload records, at exit, every package module in require.cache. Time is
   * not measured here (this machine is shared); what makes start-up slow is loading these.
   */
  async function packagesLoaded(...args: string[]): Promise<string[]> {
    const record = path.join(scratch, `loaded-${uuidv7()}.json`);
    const preload = path.join(scratch, 'record-loaded.js');
    await writeFile(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const result = await run('node', ['--require', preload, 'bin/stockroom.js', ...args], cliEnv());
    expectExit(result, 0);
    const files = JSON.parse(await readFile(record, 'utf8')) as string[];
    const packages = files.flatMap((file) => {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
      return match ? [match[1]!] : [];
    });
    return [...new Set(packages)].sort();
  }

  it.each(
    [
      ['--version'],
      ['--help'],
      ...['enqueue', 'status', 'dlq', 'seed', 'reconcile', 'token'].map((command) => [command, '--help']),
      ...['list', 'show', 'replay', 'purge'].map((command) => ['dlq', command, '--help']),
    ].map((args) => [args.join(' '), args]),
  )('stockroom %s loads no package but commander (no pg, amqplib, fastify, zod, fast-jwt, uuid, cli-progress)', async (_name, args) => {
    expect(await packagesLoaded(...args)).toEqual(['commander']);
  });
});
