/**
 * Runs one scenario against one started system and measures it: load from a separate process,
 * completion read from the database at the end (no polling of the API, which would load the system),
 * latency, resources and waits while it ran, and the checks (oversell, ledger, units granted).
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { findLedgerDifferences } from '../src/db/lot-store';
import {
  backendPids,
  countBackorders,
  countFinished,
  countOversold,
  databaseCounters,
  findAllocationOutcomes,
  findCeilingOutcomes,
  sampleCrossWorkerLockWaits,
  sampleWaits,
  unitsHeld,
  type JobOutcome,
} from './bench-store';
import { cpuTimeMs, machineCpu, pidsNamed, processTree } from './infra';
import type { LoadMessage, LoadPlan, LoadResult } from './loadgen';
import { phase, say } from './progress';
import { endpointPaths, type Scenario, type ScenarioName, type System } from './scenarios';
import { latencySummary } from './stats';
import { tokens, type SystemHandle } from './systems';

type Latency = ReturnType<typeof latencySummary>;

export type Checks = {
  /** Lots with reserved + allocated above on hand, and lots with a quantity below zero: both must be 0. */
  oversold: number;
  negative: number;
  /** Lots whose stored quantities differ from the sum of their ledger rows: must be 0. */
  ledgerDifferences: number;
  lotsChecked: number;
  /** Units held on the scenario's products grew by exactly the units the succeeded jobs asked for. */
  held: { before: number; after: number; granted: number; ok: boolean };
  /** Scarce stock: exactly `expected` jobs succeeded, and each failed job that asked for a backorder has one. */
  scarce?: { expected: number; succeeded: number; backordersExpected: number; backorders: number; ok: boolean };
  /** Every accepted job reached a final status. */
  allFinished: boolean;
  ok: boolean;
};

export type Resources = {
  wallSeconds: number;
  /** CPU used while the scenario ran, in cores (CPU seconds per wall second), per part of the system. */
  cores: Record<string, number>;
  /** CPU per finished job in ms, per part and for the system (every part but the load generator): the figure load on the machine moves least. */
  cpuMsPerJob: Record<string, number>;
  machineBusyPercent: number;
  loadAverage: number[];
  /** Share of samples of the database's active backends in each wait (CPU = waiting on nothing). */
  waits: Record<string, number>;
  waitSamples: number;
  /** Samples that caught a worker waiting on a lock held by another worker process (sum over samples). */
  crossWorkerLockWaits: number;
  queueMaxDepth: number | null;
  /**
   * Jobs finished per CPU second the system used (its processes, Postgres backends and RabbitMQ; not
   * the load generator): less sensitive than throughput to other load on the machine.
   */
  jobsPerCoreSecond: number | null;
  /** Transactions and rows of the system's database while it ran (approximate: statistics flush lazily). */
  database: Record<string, number> | null;
};

/** The cores the system used: every part but the load generator. */
export function systemCoresOf(cores: Record<string, number>): number {
  return Object.entries(cores).reduce((sum, [part, used]) => sum + (part === 'loadgen' ? 0 : used), 0);
}

export type ScenarioResult = {
  system: System;
  scenario: ScenarioName;
  title: string;
  skipped?: string;
  jobs: number;
  accepted: number;
  finished: number;
  /** Answers that were neither an accept nor a final result, by status and code. */
  rejected: Record<string, number>;
  outcomes: Record<string, number>;
  /** First accept to last final result. */
  seconds: number;
  /** Jobs with a final result per second, first accept to last final result. */
  throughput: number;
  /** Accepts per second while the load generator ran. */
  acceptRate: number;
  /** Accept (request recorded) to final result; for a synchronous call, the call itself. */
  latencyMs: Latency;
  /** The HTTP round trip of the call the load generator made. */
  httpMs: Latency;
  /** Async only: the client sending the job to its final result. */
  endToEndMs: Latency | null;
  lateSends: number;
  /** Answers 503 OVERLOADED, each followed by the same job sent again after Retry-After. */
  overloaded: number;
  checks: Checks | null;
  resources: Resources | null;
};

/** A scenario that did not run on this system, with why. */
export function skipped(system: System, scenario: Scenario, reason: string): ScenarioResult {
  const empty = latencySummary([]);
  return {
    system,
    scenario: scenario.name,
    title: scenario.title,
    skipped: reason,
    jobs: scenario.count,
    accepted: 0,
    finished: 0,
    rejected: {},
    outcomes: {},
    seconds: 0,
    throughput: 0,
    acceptRate: 0,
    latencyMs: empty,
    httpMs: empty,
    endToEndMs: null,
    lateSends: 0,
    overloaded: 0,
    checks: null,
    resources: null,
  };
}

function runLoad(plan: LoadPlan, label: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'loadgen.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const bar = phase(label, plan.count);
    let settled = false;
    child.on('message', (message: LoadMessage) => {
      if (message.type === 'progress') bar.update(message.answered, message.failed > 0 ? `(${message.failed} refused)` : '');
      else if (message.type === 'error') {
        settled = true;
        bar.stop();
        reject(new Error(`load generator failed: ${message.message}`));
      } else {
        settled = true;
        bar.stop();
        resolve(message.result);
      }
    });
    child.on('exit', (code) => {
      // messages already received may still be queued behind the exit event
      setTimeout(() => {
        if (settled) return;
        bar.stop();
        reject(new Error(`load generator exited with ${code} before reporting`));
      }, 500);
    });
    child.send(plan);
  });
}

type CpuSnapshot = { roles: Record<string, number>; backends: Map<number, number>; rabbit: number; machine: { busyMs: number; totalMs: number } };

function roleCpu(handle: SystemHandle): Record<string, number> {
  return Object.fromEntries(
    Object.entries(handle.roles).map(([role, procs]) => [
      role,
      procs.flatMap((proc) => processTree(proc.pid)).reduce((sum, pid) => sum + (cpuTimeMs(pid) ?? 0), 0),
    ]),
  );
}

async function snapshotCpu(handle: SystemHandle): Promise<CpuSnapshot> {
  const pids = await backendPids(handle.pool, handle.database.name);
  return {
    roles: roleCpu(handle),
    backends: new Map(pids.map((pid) => [pid, cpuTimeMs(pid) ?? 0])),
    rabbit: pidsNamed('beam.smp').reduce((sum, pid) => sum + (cpuTimeMs(pid) ?? 0), 0),
    machine: machineCpu(),
  };
}

/** Samples database waits and queue depth until stopped. */
function startSampler(handle: SystemHandle) {
  const waits: Record<string, number> = {};
  let samples = 0;
  let crossWorkerLockWaits = 0;
  let maxDepth: number | null = null;
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const rows = await sampleWaits(handle.pool, handle.database.name);
        for (const row of rows) waits[row.wait] = (waits[row.wait] ?? 0) + row.n;
        crossWorkerLockWaits += await sampleCrossWorkerLockWaits(handle.pool, handle.database.name);
        samples++;
        const depth = await handle.queue?.look();
        if (depth) maxDepth = Math.max(maxDepth ?? 0, depth.messages);
      } catch {
        // a failed sample is only a missing sample
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
      const total = Object.values(waits).reduce((sum, n) => sum + n, 0);
      const shares = Object.fromEntries(
        Object.entries(waits)
          .sort((a, b) => b[1] - a[1])
          .map(([wait, n]) => [wait, Math.round((n / Math.max(1, total)) * 1000) / 1000]),
      );
      return { waits: shares, samples, crossWorkerLockWaits, maxDepth };
    },
  };
}

async function waitForFinish(handle: SystemHandle, before: number, expected: number, label: string): Promise<number> {
  if (!handle.finished || expected === 0) return expected;
  const bar = phase(label, expected);
  let done = 0;
  let lastChange = Date.now();
  // a system that makes no progress for this long is reported with its unfinished jobs, not waited on forever
  const stallMs = 60_000;
  while (done < expected && Date.now() - lastChange < stallMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = (await countFinished(handle.pool, handle.finished)) - before;
    if (now !== done) lastChange = Date.now();
    done = now;
    bar.update(Math.min(done, expected));
  }
  bar.stop();
  return done;
}

async function outcomesOf(handle: SystemHandle, ids: string[]): Promise<Map<string, JobOutcome>> {
  const found = new Map<string, JobOutcome>();
  for (let start = 0; start < ids.length; start += 5000) {
    const part = ids.slice(start, start + 5000);
    const rows = handle.finished === 'ceiling' ? await findCeilingOutcomes(handle.pool, part) : await findAllocationOutcomes(handle.pool, part);
    for (const row of rows) found.set(row.id, row);
  }
  return found;
}

/** Runs one scenario on a started system and returns every figure of it. */
export async function runScenario(handle: SystemHandle, scenario: Scenario, runTag: string): Promise<ScenarioResult> {
  const hasStock = handle.system !== 'ceiling';
  // a job of the async API finishes later, in a worker; a synchronous call's answer is its final result
  const async = scenario.endpoint !== 'reserve' && handle.finished !== null;
  const heldBefore = hasStock ? await unitsHeld(handle.pool, scenario.productIds) : 0;
  const finishedBefore = async ? await countFinished(handle.pool, handle.finished!) : 0;
  const countersBefore = hasStock ? await databaseCounters(handle.pool, handle.database.name) : null;
  const cpuBefore = await snapshotCpu(handle);
  const wallStart = Date.now();
  const sampler = startSampler(handle);

  const load = await runLoad(
    {
      baseUrl: handle.baseUrl,
      path: endpointPaths[scenario.endpoint],
      token: tokens.service(),
      body: scenario.endpoint === 'reserve' ? 'reserve' : 'allocation',
      expect: async ? 'async' : 'sync',
      workload: scenario.workload,
      count: scenario.count,
      tag: `${runTag}-${handle.system}-${scenario.name}`,
      backorderEvery: scenario.backorderEvery,
      drive: scenario.drive,
      ...(scenario.batchSize === undefined ? {} : { batchSize: scenario.batchSize }),
    },
    `${handle.system} ${scenario.name}: send`,
  );
  const acceptedIndexes = load.status.flatMap((status, i) => (async ? (load.ids[i] ? [i] : []) : (status >= 200 && status < 300) || status === 409 ? [i] : []));
  const finishedCount = async
    ? await waitForFinish(handle, finishedBefore, acceptedIndexes.length, `${handle.system} ${scenario.name}: finish`)
    : acceptedIndexes.length;
  const sampled = await sampler.stop();
  const cpuAfter = await snapshotCpu(handle);
  const wallSeconds = (Date.now() - wallStart) / 1000;

  // Per job: status, accept and final times on one clock (this machine's), and the units it asked for.
  type Job = { index: number; status: string | null; acceptedMs: number; completedMs: number | null };
  let jobs: Job[];
  if (async) {
    const outcomes = await outcomesOf(
      handle,
      acceptedIndexes.map((i) => load.ids[i]!),
    );
    jobs = acceptedIndexes.map((i) => {
      const outcome = outcomes.get(load.ids[i]!);
      return { index: i, status: outcome?.status ?? null, acceptedMs: outcome?.acceptedMs ?? load.doneAt[i]!, completedMs: outcome?.completedMs ?? null };
    });
  } else {
    jobs = acceptedIndexes.map((i) => ({
      index: i,
      status: load.status[i] === 409 ? 'failed' : 'succeeded',
      acceptedMs: load.sendAt[i]!,
      completedMs: load.doneAt[i]!,
    }));
  }
  const done = jobs.filter((job) => job.completedMs !== null);
  const outcomes: Record<string, number> = {};
  for (const job of jobs) outcomes[job.status ?? 'unfinished'] = (outcomes[job.status ?? 'unfinished'] ?? 0) + 1;
  const firstAccept = Math.min(...jobs.map((job) => job.acceptedMs));
  const lastFinal = Math.max(...done.map((job) => job.completedMs!));
  const seconds = done.length > 0 ? (lastFinal - firstAccept) / 1000 : 0;
  const sendWindow = (Math.max(...load.doneAt) - Math.min(...load.sendAt)) / 1000;

  let checks: Checks | null = null;
  if (hasStock) {
    const { oversold, negative } = await countOversold(handle.pool);
    const ledger = await findLedgerDifferences(handle.pool);
    const heldAfter = await unitsHeld(handle.pool, scenario.productIds);
    const granted = jobs.filter((job) => job.status === 'succeeded').reduce((sum, job) => sum + load.units[job.index]!, 0);
    const held = { before: heldBefore, after: heldAfter, granted, ok: heldAfter - heldBefore === granted };
    let scarce: Checks['scarce'];
    if (scenario.expectSucceeded !== undefined) {
      const succeeded = outcomes.succeeded ?? 0;
      const backordersExpected = jobs.filter((job) => job.status !== 'succeeded' && load.backorder[job.index]).length;
      const backorders = await countBackorders(handle.pool, scenario.productIds);
      scarce = {
        expected: scenario.expectSucceeded,
        succeeded,
        backordersExpected,
        backorders,
        ok: succeeded === scenario.expectSucceeded && backorders === backordersExpected,
      };
    }
    const allFinished = done.length === jobs.length;
    checks = {
      oversold,
      negative,
      ledgerDifferences: ledger.differences.length,
      lotsChecked: ledger.lotsChecked,
      held,
      ...(scarce ? { scarce } : {}),
      allFinished,
      ok: oversold === 0 && negative === 0 && ledger.differences.length === 0 && held.ok && (scarce?.ok ?? true) && allFinished,
    };
  }

  const countersAfter = countersBefore ? await databaseCounters(handle.pool, handle.database.name) : null;
  const cores: Record<string, number> = {};
  for (const role of Object.keys(cpuAfter.roles)) cores[role] = (cpuAfter.roles[role]! - (cpuBefore.roles[role] ?? 0)) / 1000 / wallSeconds;
  cores.loadgen = load.cpuMs / 1000 / wallSeconds;
  cores.postgres = [...cpuAfter.backends].reduce((sum, [pid, ms]) => sum + ms - (cpuBefore.backends.get(pid) ?? 0), 0) / 1000 / wallSeconds;
  cores.rabbitmq = (cpuAfter.rabbit - cpuBefore.rabbit) / 1000 / wallSeconds;
  const systemCores = systemCoresOf(cores);
  const perJob = (used: number) => (done.length > 0 ? Math.round(((used * wallSeconds * 1000) / done.length) * 1000) / 1000 : 0);
  const cpuMsPerJob = Object.fromEntries([
    ...Object.entries(cores).map(([part, used]) => [part, perJob(used)] as const),
    ['system', perJob(systemCores)] as const,
  ]);
  for (const key of Object.keys(cores)) cores[key] = Math.round(cores[key]! * 100) / 100;
  const machineTotal = cpuAfter.machine.totalMs - cpuBefore.machine.totalMs;

  const result: ScenarioResult = {
    system: handle.system,
    scenario: scenario.name,
    title: scenario.title,
    jobs: scenario.count,
    accepted: jobs.length,
    finished: finishedCount === jobs.length ? done.length : Math.min(done.length, finishedCount),
    rejected: load.failures,
    outcomes,
    seconds: Math.round(seconds * 1000) / 1000,
    throughput: seconds > 0 ? Math.round(done.length / seconds) : 0,
    acceptRate: sendWindow > 0 ? Math.round(jobs.length / sendWindow) : 0,
    latencyMs: latencySummary(done.map((job) => Math.max(0, job.completedMs! - job.acceptedMs))),
    httpMs: latencySummary(load.doneAt.map((at, i) => at - load.sendAt[i]!)),
    endToEndMs: async ? latencySummary(done.map((job) => job.completedMs! - load.sendAt[job.index]!)) : null,
    lateSends: load.lateSends,
    overloaded: load.overloaded,
    checks,
    resources: {
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      cores,
      cpuMsPerJob,
      machineBusyPercent: machineTotal > 0 ? Math.round(((cpuAfter.machine.busyMs - cpuBefore.machine.busyMs) / machineTotal) * 1000) / 10 : 0,
      loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
      waits: sampled.waits,
      waitSamples: sampled.samples,
      crossWorkerLockWaits: sampled.crossWorkerLockWaits,
      queueMaxDepth: sampled.maxDepth,
      jobsPerCoreSecond: systemCores > 0 ? Math.round(done.length / (systemCores * wallSeconds)) : null,
      database:
        countersBefore && countersAfter
          ? Object.fromEntries(Object.keys(countersAfter).map((key) => [key, countersAfter[key]! - (countersBefore[key] ?? 0)]))
          : null,
    },
  };
  const checkText = checks ? (checks.ok ? 'checks ok' : 'CHECKS FAILED') : 'no stock to check';
  say(
    `  ${handle.system} ${scenario.name}: ${result.throughput}/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
      `${Object.entries(outcomes)
        .map(([status, n]) => `${status} ${n}`)
        .join(', ')}${result.overloaded > 0 ? `; ${result.overloaded} answers 503 OVERLOADED, sent again` : ''}; ${checkText}`,
  );
  if (checks && !checks.ok) say(`    ${JSON.stringify(checks)}`);
  return result;
}
