/**
 * The load generator: runs in its own process (forked by run.ts) so its CPU is not the measured
 * process's, sends the jobs of one scenario over keep-alive HTTP, and reports when each was sent
 * and answered. Closed loop: `concurrency` callers, each sending its next job when the last one is
 * answered. Offered rate: a job every 1/rate seconds whatever the answers, up to `maxInFlight` open.
 * Batches (`batchSize`): each caller of a closed loop sends its next `batchSize` jobs in one call of
 * POST /allocations/batch when its last call is answered.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { allocationBody, jobLines, reserveBody, type Workload } from './workloads';

export type Drive = { mode: 'closed'; concurrency: number } | { mode: 'rate'; perSecond: number; maxInFlight: number };

export type LoadPlan = {
  baseUrl: string;
  path: string;
  token: string;
  body: 'allocation' | 'reserve';
  /** async: a 202 with an allocationId is an accept; sync: the answer is the final result. */
  expect: 'async' | 'sync';
  workload: Workload;
  count: number;
  tag: string;
  /** Every n-th job asks for a backorder (0: none). */
  backorderEvery: number;
  drive: Drive;
  /** Jobs per call of POST /allocations/batch (closed loop only): each caller sends this many jobs at a time. */
  batchSize?: number;
};

/** Per job, in send order. Times are epoch milliseconds with sub-millisecond precision. */
export type LoadResult = {
  sendAt: number[];
  doneAt: number[];
  status: number[];
  ids: (string | null)[];
  units: number[];
  backorder: boolean[];
  /** Answers that were neither an accept nor a final result, by status and error code. */
  failures: Record<string, number>;
  /** Offered-rate mode: how many jobs went out late because maxInFlight requests were open. */
  lateSends: number;
  /** Answers 503 OVERLOADED (the backlog at its bound): the caller waited Retry-After and sent the job again. */
  overloaded: number;
  /** CPU the load generator itself used, in ms. */
  cpuMs: number;
};

export type LoadMessage =
  { type: 'progress'; sent: number; answered: number; failed: number } | { type: 'done'; result: LoadResult } | { type: 'error'; message: string };

const now = () => performance.timeOrigin + performance.now();

type Answer = { status: number; text: string; retryAfterSeconds: number | null };

/** How long a refusal asks to wait, in ms: the body's `details.retryAfterMs`, else `Retry-After`, else a second. */
function retryWaitOf(answer: Answer): number {
  try {
    const waitMs = (JSON.parse(answer.text) as { error?: { details?: { retryAfterMs?: unknown } } }).error?.details?.retryAfterMs;
    if (typeof waitMs === 'number') return waitMs;
  } catch {
    // not JSON: fall back on the header
  }
  return (answer.retryAfterSeconds ?? 1) * 1000;
}

function post(agent: http.Agent, url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        const retryAfter = Number(response.headers['retry-after']);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : null,
          }),
        );
        response.on('error', (error) => resolve({ status: 0, text: error.message, retryAfterSeconds: null }));
      },
    );
    request.on('error', (error) => resolve({ status: 0, text: error.message, retryAfterSeconds: null }));
    request.end(body);
  });
}

function errorCode(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string } };
    return parsed.error?.code ?? 'unknown';
  } catch {
    return text.slice(0, 60);
  }
}

/** Sends every job of the plan and resolves when all are answered. */
export async function drive(plan: LoadPlan, onProgress: (sent: number, answered: number, failed: number) => void): Promise<LoadResult> {
  const jobs = jobLines(plan.workload, plan.count);
  const bodies = jobs.map((lines, i) => {
    const reference = `${plan.tag}-${i}`;
    const backorder = plan.backorderEvery > 0 && i % plan.backorderEvery === 0;
    return JSON.stringify(plan.body === 'allocation' ? allocationBody(lines, reference, backorder) : reserveBody(lines, reference));
  });
  const result: LoadResult = {
    sendAt: new Array<number>(plan.count).fill(0),
    doneAt: new Array<number>(plan.count).fill(0),
    status: new Array<number>(plan.count).fill(0),
    ids: new Array<string | null>(plan.count).fill(null),
    units: jobs.map((lines) => lines.reduce((sum, line) => sum + line.quantity, 0)),
    backorder: jobs.map((_, i) => plan.backorderEvery > 0 && i % plan.backorderEvery === 0),
    failures: {},
    lateSends: 0,
    overloaded: 0,
    cpuMs: 0,
  };
  const cpuStart = process.cpuUsage();
  const sockets = plan.drive.mode === 'closed' ? plan.drive.concurrency : plan.drive.maxInFlight;
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  const url = new URL(plan.path, plan.baseUrl);
  let sent = 0;
  let answered = 0;
  let failed = 0;

  const send = async (i: number) => {
    const headers: Record<string, string> = { authorization: `Bearer ${plan.token}`, 'idempotency-key': `${plan.tag}-${i}` };
    result.sendAt[i] = now();
    let response = await post(agent, url, headers, bodies[i]!);
    // a well-behaved caller: refused for a full backlog, it waits as told (to the millisecond) and sends the same job again
    while (response.status === 503 && errorCode(response.text) === 'OVERLOADED') {
      result.overloaded++;
      await new Promise((resolve) => setTimeout(resolve, retryWaitOf(response)));
      response = await post(agent, url, headers, bodies[i]!);
    }
    result.doneAt[i] = now();
    result.status[i] = response.status;
    answered++;
    const accepted = plan.expect === 'async' ? response.status === 202 : response.status >= 200 && response.status < 300;
    // a sync call refused for want of stock is a final result too, not a failure of the system
    const finalRefusal = plan.expect === 'sync' && response.status === 409;
    if (accepted && plan.expect === 'async') {
      result.ids[i] = (JSON.parse(response.text) as { allocationId?: string }).allocationId ?? null;
    }
    if (!accepted && !finalRefusal) {
      failed++;
      const key = `${response.status} ${errorCode(response.text)}`;
      result.failures[key] = (result.failures[key] ?? 0) + 1;
    }
  };

  /** Sends jobs first … first + size - 1 as one POST /allocations/batch, each under its own key; each job's times are its call's. */
  const sendBatch = async (first: number, size: number) => {
    const indexes = Array.from({ length: Math.min(size, plan.count - first) }, (_, offset) => first + offset);
    const body = `{"jobs":[${indexes.map((i) => `{"idempotencyKey":"${plan.tag}-${i}","request":${bodies[i]!}}`).join(',')}]}`;
    const headers = { authorization: `Bearer ${plan.token}` };
    const sendAt = now();
    let response = await post(agent, url, headers, body);
    while (response.status === 503 && errorCode(response.text) === 'OVERLOADED') {
      result.overloaded += indexes.length;
      await new Promise((resolve) => setTimeout(resolve, retryWaitOf(response)));
      response = await post(agent, url, headers, body);
    }
    const doneAt = now();
    const results =
      response.status === 200
        ? (JSON.parse(response.text) as { results: { index: number; status: number; body: { allocationId?: string; error?: { code: string } } }[] }).results
        : null;
    indexes.forEach((i, position) => {
      const entry = results?.[position];
      result.sendAt[i] = sendAt;
      result.doneAt[i] = doneAt;
      result.status[i] = entry?.status ?? response.status;
      answered++;
      if (entry?.status === 202) {
        result.ids[i] = entry.body.allocationId ?? null;
        return;
      }
      failed++;
      const key = `${result.status[i]} ${entry?.body.error?.code ?? errorCode(response.text)}`;
      result.failures[key] = (result.failures[key] ?? 0) + 1;
    });
  };

  const ticker = setInterval(() => onProgress(sent, answered, failed), 250);
  try {
    if (plan.batchSize !== undefined) {
      if (plan.drive.mode !== 'closed') throw new Error('batches are sent in a closed loop only');
      const size = plan.batchSize;
      const caller = async () => {
        while (sent < plan.count) {
          const first = sent;
          sent = Math.min(plan.count, sent + size);
          await sendBatch(first, size);
        }
      };
      await Promise.all(Array.from({ length: Math.min(plan.drive.concurrency, Math.ceil(plan.count / size)) }, caller));
    } else if (plan.drive.mode === 'closed') {
      const caller = async () => {
        while (sent < plan.count) await send(sent++);
      };
      await Promise.all(Array.from({ length: Math.min(plan.drive.concurrency, plan.count) }, caller));
    } else {
      const { perSecond, maxInFlight } = plan.drive;
      const start = now();
      const open = new Set<Promise<void>>();
      while (sent < plan.count) {
        const due = Math.min(plan.count, Math.floor(((now() - start) * perSecond) / 1000) + 1);
        while (sent < due) {
          if (open.size >= maxInFlight) {
            result.lateSends++;
            while (open.size >= maxInFlight) await Promise.race(open);
          }
          const pending = send(sent++).finally(() => open.delete(pending));
          open.add(pending);
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await Promise.all(open);
    }
  } finally {
    clearInterval(ticker);
    agent.destroy();
  }
  onProgress(sent, answered, failed);
  const cpu = process.cpuUsage(cpuStart);
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  return result;
}

if (require.main === module) {
  const reply = (message: LoadMessage) => process.send?.(message);
  // the last message must be written out before the channel closes, or the parent never sees it
  const last = (message: LoadMessage) => process.send?.(message, undefined, {}, () => process.disconnect());
  process.once('message', (plan: LoadPlan) => {
    drive(plan, (sent, answered, failedCount) => reply({ type: 'progress', sent, answered, failed: failedCount }))
      .then((result) => last({ type: 'done', result }))
      .catch((error: unknown) => last({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
}
