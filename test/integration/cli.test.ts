import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqplib from 'amqplib';
import { v7 as uuidv7 } from 'uuid';
import { waitFor } from '../helpers/allocations';
import { freePort, run, startStack, type RunResult, type Stack } from '../helpers/stack';

let stack: Stack;
let scratch: string;
beforeAll(async () => {
  stack = await startStack('cli');
  scratch = await mkdtemp(path.join(tmpdir(), 'stockroom-cli-'));
}, 120_000);
// unset when startStack failed
afterAll(async () => (stack as Stack | undefined)?.stop());

/** Runs `stockroom …` as a child process, the way a user does (bin/stockroom.js). */
function stockroom(...args: string[]): Promise<RunResult> {
  return run('node', ['bin/stockroom.js', ...args], { STOCKROOM_URL: stack.url, JWT_SECRET: stack.env.JWT_SECRET!, DATABASE_URL: stack.env.DATABASE_URL! });
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

    expectExit(await stockroom('dlq', 'purge', id), 0);
    const empty = await stockroom('dlq', 'list');
    expect(empty.stdout).toBe('no open dead letters\n');
    const again = await stockroom('dlq', 'purge', id);
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

    expectExit(await stockroom('dlq', 'replay', letterId), 0);
    const served = await waitFor('the replayed job to succeed', async () => {
      const result = await stockroom('status', allocationId);
      return result.stdout.includes(': succeeded') ? result : undefined;
    });
    expectExit(served, 0);
    expect((await stockroom('dlq', 'list')).stdout).not.toContain(allocationId);
  });
});
