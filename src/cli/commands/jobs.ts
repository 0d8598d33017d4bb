import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import { priorities } from '../../domain/priority';
import { strategies } from '../../domain/strategies';
import type { AcceptedAllocation, allocationViewSchema } from '../../schemas/allocations';
import { CliError, exitCodes, type ExitCode } from '../errors';
import { callApi, type ApiTarget } from '../http';
import { table, type Output } from '../output';
import { startProgress } from '../progress';
import { positiveInteger, type CommandContext } from '../context';
import { allocationSchemas, uuidModule } from '../lazy';

type Accepted = AcceptedAllocation;
/** A job as GET /allocations/:id answers it, on the wire (timestamps are strings). */
type JobView = z.input<typeof allocationViewSchema>;

const pendingStatuses = new Set(['queued', 'processing']);
const failedStatuses = new Set(['failed', 'dead_lettered']);

/** The exit code a job's status stands for: failed and dead-lettered jobs exit 1. */
export function exitCodeOf(job: JobView): ExitCode {
  return failedStatuses.has(job.status) ? exitCodes.failed : exitCodes.ok;
}

/** Writes a job as a summary and tables of its allocated and failed lines (or as JSON). */
export function printJob(output: Output, job: JobView): void {
  if (output.json) {
    output.out(JSON.stringify(job, null, 2));
    return;
  }
  const { result } = job;
  const facts = [
    `${job.mode} ${job.priority}`,
    `reference ${job.referenceType} ${job.referenceId}`,
    result && `allocated ${result.totalAllocated} of ${result.totalRequested}`,
    result && `${result.executionTimeMs} ms`,
    result?.reservationId && `reservation ${result.reservationId}`,
    job.attempts > 1 && `${job.attempts} attempts`,
  ].filter(Boolean);
  output.out(`allocation ${job.allocationId}: ${job.status} (${facts.join(', ')})`);
  if (job.lastError && job.status !== 'succeeded') output.out(`last error: ${job.lastError}`);
  if (result?.allocatedItems.length) {
    output.out('');
    output.out(
      table(
        ['PRODUCT', 'WAREHOUSE', 'LOT', 'LOT NUMBER', 'QUANTITY'],
        result.allocatedItems.map((line) => [line.productId, line.warehouseId, line.lotId, line.lotNumber, line.quantity]),
      ),
    );
  }
  if (result?.failedItems.length) {
    output.out('');
    output.out(
      table(
        ['PRODUCT', 'REQUESTED', 'AVAILABLE', 'REASON', 'MESSAGE'],
        result.failedItems.map((line) => [line.productId, line.requestedQuantity, line.availableQuantity, line.reason, line.errorMessage]),
      ),
    );
  }
  if (result?.backorderIds?.length) output.out(`\nbackorders: ${result.backorderIds.join(', ')}`);
}

/** Polls a job until it is no longer queued or processing, showing its status on stderr meanwhile. */
export async function waitForJob(target: ApiTarget, output: Output, allocationId: string, timeoutSeconds: number): Promise<JobView> {
  const started = Date.now();
  const progress = startProgress(output, { label: `allocation ${allocationId}: queued` });
  try {
    for (;;) {
      const job = await callApi<JobView>(target, 'GET', `/api/v1/allocations/${encodeURIComponent(allocationId)}`);
      if (!pendingStatuses.has(job.status)) return job;
      const seconds = (Date.now() - started) / 1000;
      if (seconds > timeoutSeconds) {
        throw new CliError(
          exitCodes.failed,
          `allocation ${allocationId} is still ${job.status} after ${timeoutSeconds}s; check later with: stockroom status ${allocationId}`,
        );
      }
      progress.update({ label: `allocation ${allocationId}: ${job.status}` });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    progress.stop();
  }
}

/** Reads a job body from a JSON file; a missing or unparsable file is bad usage (exit 2). */
export async function readJobFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(exitCodes.usage, `Cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new CliError(exitCodes.usage, `${path} is not valid JSON: ${(error as Error).message}`);
  }
  return checked(body, path);
}

/** Checks a request body against the API's own schema, so a bad one fails here (exit 2) with every issue named. */
function checked(body: unknown, source: string): Record<string, unknown> {
  const parsed = allocationSchemas().createAllocationBody.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `\n  ${issue.path.join('.') || '(body)'}: ${issue.message}`).join('');
    throw new CliError(exitCodes.usage, `Not a valid allocation request (${source}):${issues}`);
  }
  // Sent as written: the API fills in the same defaults the check did.
  return body as Record<string, unknown>;
}

function latitudeLongitude(value: string): { latitude: number; longitude: number } {
  const [latitude, longitude, ...rest] = value.split(',').map((part) => Number(part.trim()));
  if (rest.length > 0 || !Number.isFinite(latitude) || !Number.isFinite(longitude)) throw new InvalidArgumentError('expected LAT,LON such as 40.71,-74.01');
  return { latitude: latitude!, longitude: longitude! };
}

type EnqueueOptions = {
  file?: string;
  product?: string;
  quantity?: number;
  warehouse?: string;
  mode: string;
  strategy: string;
  priority: string;
  reference?: string;
  referenceType: string;
  allowPartial?: boolean;
  allowBackorder?: boolean;
  reservationMinutes?: number;
  timeoutMs?: number;
  destination?: { latitude: number; longitude: number };
  key?: string;
  batchSize: number;
  wait?: boolean;
  waitTimeout: number;
};

function bodyFromFlags(options: EnqueueOptions): Record<string, unknown> {
  if (!options.product || !options.quantity) throw new CliError(exitCodes.usage, 'Give --product and --quantity, or --file with the whole request');
  return checked(
    {
      items: [{ productId: options.product, quantity: options.quantity, ...(options.warehouse ? { warehouseId: options.warehouse } : {}) }],
      mode: options.mode,
      strategy: options.strategy,
      priority: options.priority,
      allowPartial: options.allowPartial ?? false,
      allowBackorder: options.allowBackorder ?? false,
      referenceId: options.reference ?? `cli-${uuidModule().v7()}`,
      referenceType: options.referenceType,
      ...(options.reservationMinutes ? { reservationMinutes: options.reservationMinutes } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.destination ? { destination: options.destination } : {}),
    },
    'from the options',
  );
}

/** `stockroom enqueue`: POST /allocations from flags or a file, optionally waiting for the result. */
export function enqueueCommand(context: CommandContext): Command {
  return new Command('enqueue')
    .description(
      'enqueue an allocation job (from flags or --file job.json), or every job of --file jobs.ndjson (one per line, in batches); --wait shows progress and prints the result',
    )
    .option('-f, --file <path>', 'a JSON file holding the whole request body; a .ndjson or .jsonl file holds one job per line')
    .option('--batch-size <n>', 'with an NDJSON file: jobs per POST /allocations/batch call (at most 1000)', positiveInteger, 1000)
    .option('-p, --product <id>', 'the product to allocate')
    .option('-q, --quantity <n>', 'how many units', positiveInteger)
    .option('-w, --warehouse <id>', 'take stock only from this warehouse')
    .addOption(new Option('--mode <mode>', 'hold the stock (reserve) or commit it (allocate)').choices(['reserve', 'allocate']).default('reserve'))
    .addOption(new Option('--strategy <name>', 'which lots serve first').choices(strategies).default('fifo'))
    .addOption(new Option('--priority <level>', 'queue priority').choices(priorities).default('medium'))
    .option('--reference <id>', 'the order or document this job serves (default: a generated id)')
    .option('--reference-type <type>', 'what the reference is', 'order')
    .option('--allow-partial', 'accept fewer units than requested')
    .option('--allow-backorder', 'record what could not be served as a backorder')
    .option('--reservation-minutes <n>', 'how long a reservation holds (mode reserve)', positiveInteger)
    .option('--timeout-ms <n>', 'fail the job with `timeout` if it has not started by then', positiveInteger)
    .option('--destination <lat,lon>', 'where the goods go (strategy nearest_location)', latitudeLongitude)
    .option('--key <key>', 'Idempotency-Key (default: a new one per call)')
    .option('--wait', 'poll until the job finishes, then print its result')
    .option('--wait-timeout <seconds>', 'give up waiting after this long', positiveInteger, 60)
    .action(async (options: EnqueueOptions) => {
      if (options.file && (options.product || options.quantity)) throw new CliError(exitCodes.usage, 'Give either --file or --product/--quantity, not both');
      // loaded here: it needs the schemas, which --help and the other commands do without
      const { enqueueFile, isJobLinesFile } = await import('./enqueue-file.js');
      if (options.file && isJobLinesFile(options.file)) {
        if (options.key || options.wait) throw new CliError(exitCodes.usage, 'An NDJSON file takes its keys from its lines, and does not --wait');
        return enqueueFile(context, options.file, options.batchSize);
      }
      const body = options.file ? await readJobFile(options.file) : bodyFromFlags(options);
      const target = context.target();
      const key = options.key ?? uuidModule().v7();
      const accepted = await callApi<Accepted>(target, 'POST', '/api/v1/allocations', { body, headers: { 'idempotency-key': key } });
      const { output } = context;
      if (!options.wait) {
        if (output.json) output.out(JSON.stringify(accepted, null, 2));
        else output.out(`allocation ${accepted.allocationId}: ${accepted.status} (idempotency key ${accepted.idempotencyKey})`);
        return;
      }
      output.err(`allocation ${accepted.allocationId} accepted (idempotency key ${accepted.idempotencyKey})`);
      const job = await waitForJob(target, output, accepted.allocationId, options.waitTimeout);
      printJob(output, job);
      context.exitCode = exitCodeOf(job);
    });
}

/** `stockroom status <id>`: prints a job's status and, once finished, its result. */
export function statusCommand(context: CommandContext): Command {
  return new Command('status')
    .description("show an allocation job's status and result")
    .argument('<allocationId>', 'the id POST /allocations answered with')
    .option('--wait', 'poll until the job finishes')
    .option('--wait-timeout <seconds>', 'give up waiting after this long', positiveInteger, 60)
    .action(async (allocationId: string, options: { wait?: boolean; waitTimeout: number }) => {
      const target = context.target();
      const job = options.wait
        ? await waitForJob(target, context.output, allocationId, options.waitTimeout)
        : await callApi<JobView>(target, 'GET', `/api/v1/allocations/${encodeURIComponent(allocationId)}`);
      printJob(context.output, job);
      context.exitCode = exitCodeOf(job);
    });
}
