/**
 * `npm run bench`: Stockroom against a naive baseline and a bare ceiling probe, on fresh databases
 * and vhosts of the local Postgres and RabbitMQ, with real processes and load from a separate
 * process. Writes bench/results/<timestamp>.json, latest.json, latest.svg (quick runs: quick-*) and (full runs) the
 * README table. Exits 1 when any oversell, ledger or units-granted check fails. See docs/benchmark.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { Client } from 'pg';
import { serverSettings, serverVersion } from './bench-store';
import { baseDatabaseUrl, checkOut, git, rabbitmqctl, repoRoot, type OtherCheckout } from './infra';
import { runScenario, skipped, type ScenarioResult } from './measure';
import { say } from './progress';
import {
  chartSubtitle,
  comparedOf,
  markdownCpuTable,
  markdownPairs,
  markdownTable,
  markdownTargets,
  pairRows,
  ratios,
  readCompared,
  renderChart,
  sidesOfPair,
  summarize,
  targets,
  updateReadme,
  utcMinute,
  writeResult,
  type Compared,
} from './report';
import { endpointPaths, fullSizes, quickSizes, scenarioNames, scenarios, systems, type ScenarioName, type System } from './scenarios';
import { startBaseline, startCeiling, startOurs, type SystemHandle, type SystemOptions } from './systems';

type CliOptions = {
  quick: boolean;
  runs: number;
  systems: System[];
  scenarios: ScenarioName[];
  workers: number;
  jobs?: number;
  spreadLines?: number;
  logLevel: string;
  env: string[];
  cpuProf: boolean;
  staleStats: boolean;
  keep: boolean;
  readme: boolean;
  out: string;
  report?: string;
  compare?: string;
  against?: string;
};

const list =
  <T extends string>(allowed: readonly T[]) =>
  (value: string): T[] => {
    const items = value.split(',').map((item) => item.trim()) as T[];
    const unknown = items.filter((item) => !allowed.includes(item));
    if (unknown.length > 0) throw new Error(`unknown: ${unknown.join(', ')} (choose from ${allowed.join(', ')})`);
    return items;
  };

function parseArgs(argv: string[]): CliOptions {
  const program = new Command('bench')
    .description('Allocation benchmark: Stockroom next to a naive baseline and a bare ceiling probe')
    .option('--quick', 'small counts, under a minute (CI smoke test: checks must pass, no thresholds)', false)
    .addOption(new Option('--runs <n>', 'runs to take medians over').default(1).argParser((value) => Math.max(1, Number.parseInt(value, 10))))
    .addOption(new Option('--systems <list>', 'systems to run').default([...systems]).argParser(list(systems)))
    .addOption(new Option('--scenarios <list>', 'scenarios to run').default([...scenarioNames]).argParser(list(scenarioNames)))
    .addOption(new Option('--workers <n>', 'Stockroom worker processes').default(1).argParser((value) => Math.max(1, Number.parseInt(value, 10))))
    .addOption(new Option('--jobs <n>', "jobs per scenario instead of the mode's count").argParser((value) => Math.max(1, Number.parseInt(value, 10))))
    .addOption(
      new Option('--spread-lines <n>', 'most lines (products) a spread job names; 1 keeps each job in one partition').argParser((value) =>
        Math.max(1, Number.parseInt(value, 10)),
      ),
    )
    .option('--log-level <level>', 'LOG_LEVEL of Stockroom processes', 'warn')
    .option('--env <KEY=VALUE...>', 'extra environment for Stockroom processes, e.g. WORKER_BATCH_SIZE=200', [])
    .option('--cpu-prof', 'write V8 CPU profiles of Stockroom processes next to their logs', false)
    .option('--stale-stats', "ANALYZE Stockroom's database once seeded, while its job tables are still empty", false)
    .option('--keep', 'keep the databases and vhosts afterwards', false)
    .option('--no-readme', 'do not write the figures into README.md (quick runs never do)')
    .option('--out <dir>', 'results folder', path.join(repoRoot, 'bench', 'results'))
    .option('--report <file>', 'write the JSON report to this file as well (`stockroom --json bench` prints it)')
    .option(
      '--compare <file>',
      "an earlier results file whose figures are shown beside this run's (default: the results folder's latest.json from before this run; `none` for none)",
    )
    .option(
      '--against <revision>',
      "run Stockroom as of this git revision too, alternating with the checkout in each of --runs pairs (ours only): prints each pair's change in CPU per job",
    );
  program.parse(argv);
  return program.opts<CliOptions>();
}

/** What git prints for `args`, or null outside a git checkout. */
function gitOrNull(args: string[]): string | null {
  try {
    return git(args);
  } catch {
    return null;
  }
}

async function machineFacts() {
  const client = new Client({ connectionString: baseDatabaseUrl(), application_name: 'stockroom-bench-harness' });
  await client.connect();
  let postgres: { version: string; settings: Record<string, string>; activeSessionsAtStart: number };
  try {
    const others = await client.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where state = 'active' and pid <> pg_backend_pid()`);
    postgres = { version: await serverVersion(client), settings: await serverSettings(client), activeSessionsAtStart: others.rows[0]!.n };
  } finally {
    await client.end();
  }
  const rabbitmq = await rabbitmqctl(['version']).then(
    (text) => text.trim(),
    () => null,
  );
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres,
    rabbitmq,
    loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
    gitCommit: gitOrNull(['rev-parse', '--short', 'HEAD']),
    gitBranch: gitOrNull(['rev-parse', '--abbrev-ref', 'HEAD']),
  };
}

function parseEnv(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--env expects KEY=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** The run to show beside this one: `--compare`, else the latest full (or quick) results from before this run, if any. */
function comparedRun(options: CliOptions): Compared | undefined {
  if (options.compare === 'none') return undefined;
  const file = options.compare ?? path.join(options.out, `${options.quick ? 'quick-' : ''}latest.json`);
  if (!options.compare && !fs.existsSync(file)) return undefined;
  return readCompared(file);
}

function describeCompared(compared: Compared, cpuModel: string | null): string {
  if (compared.file === null)
    return `Beside Stockroom as of ${compared.gitCommit ?? 'another revision'}, run in the same session, alternately with this checkout.`;
  const where = compared.cpuModel === cpuModel ? 'the same CPU model' : `another CPU (${compared.cpuModel ?? 'unknown'}): compare ratios, not jobs/s`;
  return (
    `Beside the run of ${utcMinute(compared.startedAt)} (${compared.gitCommit ?? 'unknown commit'}, ` +
    `[${path.relative(repoRoot, compared.file)}](${path.relative(repoRoot, compared.file)})), on ${where}.`
  );
}

/** The other revision of `--against`, checked out under `parent`. */
function againstCheckout(options: CliOptions, parent: string): OtherCheckout | null {
  if (options.against === undefined) return null;
  try {
    return checkOut(options.against, parent);
  } catch (error) {
    throw new Error(`--against: cannot check out ${options.against}`, { cause: error });
  }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv);
  // read before the runs: this run's results replace latest.json (an --against run compares with its revision instead)
  const earlier = options.against === undefined ? comparedRun(options) : undefined;
  const base = options.quick ? quickSizes : fullSizes;
  const sized = options.jobs ? { ...base, jobs: options.jobs, scarceJobs: options.jobs, rateJobs: options.jobs, syncJobs: options.jobs } : base;
  const sizes = options.spreadLines ? { ...sized, spreadLines: options.spreadLines } : sized;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), `stockroom-bench-${stamp}-`));
  const profileDir = path.join(logDir, 'profiles');
  const started = new Date();
  const facts = await machineFacts();
  say(
    `Stockroom benchmark (${options.quick ? 'quick' : 'full'}, ${options.runs} run${options.runs > 1 ? 's' : ''}) on ${facts.cores} cores, node ${facts.node}, ` +
      `Postgres ${facts.postgres.version}, RabbitMQ ${facts.rabbitmq ?? 'unknown'}; load average ${facts.loadAverageAtStart.join(' ')}`,
  );
  say(`process logs in ${logDir}`);
  const against = againstCheckout(options, logDir);
  if (against) say(`against ${against.revision} (${against.commit.slice(0, 12)}): ours only, alternating with this checkout in ${options.runs} pairs`);

  const active = new Set<SystemHandle>();
  const interruption = new AbortController();
  // read through a call: the SIGINT handler changes it between the loop's awaits
  const interrupted = () => interruption.signal.aborted;
  process.once('SIGINT', () => {
    interruption.abort();
    say('interrupted: stopping the systems and dropping their databases');
    void Promise.all([...active].map((handle) => handle.stop())).finally(() => {
      against?.remove();
      process.exit(130);
    });
  });

  /** Starts one system (ours from `root`), runs its chosen scenarios, stops it. */
  const measureSystem = async (system: System, systemOptions: SystemOptions, label: string): Promise<ScenarioResult[]> => {
    const results: ScenarioResult[] = [];
    const chosen = scenarios(sizes).filter((scenario) => scenario.systems.includes(system) && options.scenarios.includes(scenario.name));
    if (chosen.length === 0) return results;
    say(`${label} · ${system}: starting`);
    const startedAt = Date.now();
    const handle =
      system === 'ours'
        ? await startOurs(systemOptions, sizes)
        : system === 'baseline'
          ? await startBaseline(systemOptions, sizes)
          : await startCeiling(systemOptions);
    active.add(handle);
    seeding[system] = handle.seeding;
    say(`${label} · ${system}: ready and seeded in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (${handle.seeding})`);
    try {
      for (const scenario of chosen) {
        if (interrupted()) break;
        if (!handle.endpoints.has(scenario.endpoint)) {
          const reason = `this build has no POST ${endpointPaths[scenario.endpoint]}`;
          say(`  ${system} ${scenario.name}: skipped (${reason})`);
          results.push(skipped(system, scenario, reason));
          continue;
        }
        results.push(await runScenario(handle, scenario, systemOptions.runId));
      }
    } finally {
      await handle.stop();
      active.delete(handle);
    }
    return results;
  };

  const runs: ScenarioResult[][] = [];
  const againstRuns: ScenarioResult[][] = [];
  const seeding: Record<string, string> = {};
  try {
    for (let run = 1; run <= options.runs && !interrupted(); run++) {
      const systemOptions: SystemOptions = {
        runId: `${stamp}_${run}`,
        logDir,
        logLevel: options.logLevel,
        workers: options.workers,
        env: parseEnv(options.env),
        nodeArgs: options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        keep: options.keep,
        staleStats: options.staleStats,
        root: repoRoot,
      };
      if (!against) {
        const results: ScenarioResult[] = [];
        for (const system of options.systems) results.push(...(await measureSystem(system, systemOptions, `run ${run}/${options.runs}`)));
        runs.push(results);
        continue;
      }
      for (const side of sidesOfPair(run)) {
        if (interrupted()) break;
        const label = `pair ${run}/${options.runs}, ${side === 'against' ? against.revision : 'checkout'}`;
        const sideOptions = side === 'against' ? { ...systemOptions, runId: `${stamp}_${run}_against`, root: against.root } : systemOptions;
        (side === 'against' ? againstRuns : runs).push(await measureSystem('ours', sideOptions, label));
      }
    }
  } finally {
    against?.remove();
  }

  const compared = against
    ? comparedOf(againstRuns, { file: null, startedAt: started.toISOString(), gitCommit: against.commit.slice(0, 7), cpuModel: facts.cpuModel })
    : earlier;
  const pairs = against ? pairRows(againstRuns, runs) : [];
  const summary = summarize(runs);
  const ratio = ratios(summary);
  const targetList = targets(summary, ratio, compared);
  const report = {
    version: 1,
    mode: options.quick ? 'quick' : 'full',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: facts,
    settings: {
      runs: options.runs,
      sizes,
      stockroomWorkers: options.workers,
      stockroomLogLevel: options.logLevel,
      stockroomEnv: parseEnv(options.env),
      staleStats: options.staleStats,
      baselineProcesses: Number(process.env.BASELINE_PROCESSES ?? 2),
      seeding,
      completion:
        'read from the database at the end: allocation_results.completed_at (ceiling: ceiling_jobs.completed_at) against allocation_requests.created_at',
    },
    summary,
    ratios: ratio,
    targets: targetList,
    compared: compared ? { ...compared, file: compared.file && path.relative(repoRoot, compared.file) } : null,
    against: against ? { revision: against.revision, commit: against.commit, pairs, runs: againstRuns } : null,
    runs,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const subtitle = chartSubtitle(options.quick ? 'quick' : 'full', options.runs, facts.cores, started.toISOString());
  const svg = await renderChart(summary, subtitle, compared);
  // quick runs keep their own names, so a smoke test never overwrites the figures the README quotes;
  // --against runs too, and never become the latest run the next one is compared with
  const prefix = against ? 'against-' : options.quick ? 'quick-' : '';
  const files = [
    writeResult(options.out, `${prefix}${stamp}.json`, json),
    ...(against ? [] : [writeResult(options.out, `${prefix}latest.json`, json)]),
    ...(options.report ? [writeResult(path.dirname(options.report), path.basename(options.report), json)] : []),
    writeResult(options.out, `${prefix}${stamp}.svg`, svg),
    ...(against ? [] : [writeResult(options.out, `${prefix}latest.svg`, svg)]),
  ];
  const table = markdownTable(summary, ratio, compared);
  const cpuTable = markdownCpuTable(summary, compared);
  const targetTable = markdownTargets(targetList);
  const comparedLine = compared ? describeCompared(compared, facts.cpuModel) : null;
  const pairTable = against ? markdownPairs(pairs, against.commit.slice(0, 7)) : null;
  say(`\n${[comparedLine, table, cpuTable, pairTable, targetTable].filter(Boolean).join('\n\n')}\n`);
  if (!options.quick && !against && options.readme) {
    const body = [
      `Measured ${started.toISOString().slice(0, 10)} on ${facts.cores} cores (Postgres ${facts.postgres.version}, ` +
        `RabbitMQ ${facts.rabbitmq ?? 'unknown'}, node ${facts.node}), ${options.runs === 1 ? 'one run' : `medians of ${options.runs} runs`}; ` +
        `full figures in [bench/results/latest.json](bench/results/latest.json).`,
      ...(comparedLine ? ['', comparedLine] : []),
      '',
      table,
      '',
      cpuTable,
      '',
      targetTable,
      '',
      '![throughput and p99 per scenario](bench/results/latest.svg)',
    ].join('\n');
    if (updateReadme(path.join(repoRoot, 'README.md'), body)) files.push('README.md');
  }
  say(`wrote ${files.map((file) => path.relative(repoRoot, file)).join(', ')}`);
  if (options.cpuProf) say(`CPU profiles in ${profileDir} (summarize with: npx tsx bench/profile-summary.ts <file>)`);

  const failed = [...runs, ...againstRuns].flat().filter((result) => result.checks && !result.checks.ok);
  if (failed.length > 0) {
    say(`CHECKS FAILED: ${failed.map((result) => `${result.system} ${result.scenario}`).join(', ')}`);
    return 1;
  }
  say('all checks passed: no oversell, the ledger reconciles, every accepted job finished with exactly the units it was granted');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
