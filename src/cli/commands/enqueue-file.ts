/** `stockroom enqueue --file jobs.ndjson`: many jobs from a file of one job per line, sent through POST /allocations/batch. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { requestHash } from '../../request-hash';
import { allocationBatchLimit, createAllocationBody, type AllocationBatchResult } from '../../schemas/allocations';
import { idempotencyKeyText } from '../../schemas/common';
import type { CommandContext } from '../context';
import { CliError, exitCodes } from '../errors';
import { callApi, type ApiTarget } from '../http';
import { table } from '../output';
import { startProgress } from '../progress';

/** Whether a --file holds one job per line (NDJSON), by its name: `.ndjson` or `.jsonl`. */
export function isJobLinesFile(file: string): boolean {
  return /\.(ndjson|jsonl)$/i.test(file);
}

/** The largest body sent: under the service's default BODY_LIMIT_BYTES (1 MiB). */
const maxBatchBytes = 900 * 1024;
/** The most invalid lines named when a file is refused. */
const namedProblems = 20;

/** A job read from a line: its line number (from 1), its key, and the request body as written. */
type JobLine = { line: number; idempotencyKey: string; request: Record<string, unknown>; bytes: number };

/**
 * The key of a line that names none: the file's name, the line number and the hash of the request
 * (defaults filled in, keys in any order). Running the same file again gives the same keys, so it
 * queues nothing twice; a line changed since gets a new key, and a job of its own.
 */
export function lineKey(file: string, line: number, request: unknown): string {
  const name = path
    .basename(file)
    .replace(/[^\x21-\x7e]/g, '_')
    .slice(0, 100);
  return `${name}:${line}:${requestHash(request).slice(0, 24)}`;
}

/** Reads and checks every line (against the API's own schema); any invalid line refuses the file (exit 2) before anything is sent. */
export async function readJobLines(file: string): Promise<JobLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(exitCodes.usage, `Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const jobs: JobLine[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push(`line ${line}: not JSON: ${(error as Error).message}`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`line ${line}: not a JSON object`);
      return;
    }
    const { idempotencyKey, ...request } = value as Record<string, unknown>;
    if (idempotencyKey !== undefined && !idempotencyKeyText.safeParse(idempotencyKey).success) {
      problems.push(`line ${line}: idempotencyKey: expected 1-200 printable characters`);
      return;
    }
    const parsed = createAllocationBody.safeParse(request);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => `line ${line}: ${issue.path.join('.') || '(body)'}: ${issue.message}`));
      return;
    }
    jobs.push({ line, idempotencyKey: (idempotencyKey as string | undefined) ?? lineKey(file, line, parsed.data), request, bytes: Buffer.byteLength(raw) });
  });
  if (problems.length > 0) {
    const more = problems.length > namedProblems ? `\n  … and ${problems.length - namedProblems} more` : '';
    throw new CliError(exitCodes.usage, `${file}: invalid lines, nothing sent:\n  ${problems.slice(0, namedProblems).join('\n  ')}${more}`);
  }
  return jobs;
}

/** Consecutive lines in batches of at most `size` jobs and maxBatchBytes of body. */
function batchesOf(jobs: readonly JobLine[], size: number): JobLine[][] {
  const batches: JobLine[][] = [];
  let current: JobLine[] = [];
  let bytes = 0;
  for (const job of jobs) {
    const entryBytes = job.bytes + job.idempotencyKey.length + 64;
    if (current.length > 0 && (current.length >= size || bytes + entryBytes > maxBatchBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(job);
    bytes += entryBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Sends one batch; while the service refuses it as overloaded, waits as told (Retry-After) and sends it again, under the same keys. */
async function sendBatch(target: ApiTarget, batch: readonly JobLine[], onWait: (seconds: number) => void): Promise<AllocationBatchResult> {
  const body = { jobs: batch.map((job) => ({ idempotencyKey: job.idempotencyKey, request: job.request })) };
  for (;;) {
    try {
      return await callApi<AllocationBatchResult>(target, 'POST', '/api/v1/allocations/batch', { body });
    } catch (error) {
      if (!(error instanceof CliError) || error.apiCode !== 'OVERLOADED') throw error;
      const seconds = error.retryAfterSeconds ?? 1;
      onWait(seconds);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}

/** What became of one line. */
type LineOutcome = {
  line: number;
  idempotencyKey: string;
  status: number;
  allocationId?: string;
  replayed?: boolean;
  error?: { code: string; message: string };
};

/**
 * Enqueues every job of an NDJSON file, `batchSize` (at most 1,000) a call, with a progress bar
 * (src/cli/progress.ts). Prints how many were queued, replayed and refused, and each refused line;
 * exits 4 when any line was refused.
 */
export async function enqueueFile(context: CommandContext, file: string, batchSize: number): Promise<void> {
  if (batchSize > allocationBatchLimit) throw new CliError(exitCodes.usage, `--batch-size may be at most ${allocationBatchLimit}`);
  const jobs = await readJobLines(file);
  if (jobs.length === 0) throw new CliError(exitCodes.usage, `${file} holds no jobs`);
  const target = context.target();
  const { output } = context;
  const label = `enqueueing ${path.basename(file)}`;
  const progress = startProgress(output, { label, total: jobs.length, unit: 'jobs' });
  const outcomes: LineOutcome[] = [];
  try {
    for (const batch of batchesOf(jobs, batchSize)) {
      const answer = await sendBatch(target, batch, (seconds) => progress.update({ label: `${label} (the service is busy: waiting ${seconds}s)` }));
      progress.update({ label });
      for (const result of answer.results) {
        const { line, idempotencyKey } = batch[result.index]!;
        const { body } = result;
        outcomes.push(
          'allocationId' in body
            ? { line, idempotencyKey, status: result.status, allocationId: body.allocationId, replayed: result.replayed }
            : { line, idempotencyKey, status: result.status, error: { code: body.error.code, message: body.error.message } },
        );
      }
      progress.advance(batch.length);
    }
  } finally {
    progress.stop();
  }

  const refused = outcomes.filter((outcome) => outcome.status !== 202);
  const replayed = outcomes.filter((outcome) => outcome.replayed === true).length;
  const queued = outcomes.length - refused.length - replayed;
  if (output.json) {
    output.out(JSON.stringify({ file, queued, replayed, refused: refused.length, jobs: outcomes }, null, 2));
  } else {
    output.out(`${file}: ${queued} jobs queued, ${replayed} already queued under their keys, ${refused.length} refused`);
    if (refused.length > 0) {
      output.out('');
      output.out(
        table(
          ['LINE', 'KEY', 'STATUS', 'CODE', 'MESSAGE'],
          refused.map((outcome) => [outcome.line, outcome.idempotencyKey, outcome.status, outcome.error?.code, outcome.error?.message]),
        ),
      );
    }
  }
  if (refused.length > 0) context.exitCode = exitCodes.refused;
}
