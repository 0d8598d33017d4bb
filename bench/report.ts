/** What a run leaves behind: the summary (medians over runs), ratios and targets, the JSON file, the chart and the README table. */
import fs from 'node:fs';
import path from 'node:path';
import { systemCoresOf, type ScenarioResult } from './measure';
import { scenarioNames, systems, type ScenarioName, type System } from './scenarios';
import { median } from './stats';

export type SummaryRow = {
  system: System;
  scenario: ScenarioName;
  runs: number;
  throughput: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Every run of it passed every check (oversell, ledger, units granted, scarce). */
  checksOk: boolean | null;
  /** Median CPU ms per finished job of each part and of the system (every part but the load generator). */
  cpuMsPerJob: Record<CpuPart, number | null>;
};

export const cpuParts = ['api', 'worker', 'postgres', 'rabbitmq', 'system', 'loadgen'] as const;
export type CpuPart = (typeof cpuParts)[number];

/**
 * Other figures shown beside this run's: an earlier results file's, or (`file` null) those of
 * another revision measured in this run, alternately with the checkout (`--against`).
 */
export type Compared = { file: string | null; startedAt: string; gitCommit: string | null; cpuModel: string | null; summary: SummaryRow[]; ratios: Ratios };

export type Target = { name: string; target: string; value: number | null; met: boolean | null };

export type Ratios = Partial<Record<ScenarioName, { oursOverBaseline: number | null; oursOverCeiling: number | null }>>;

/**
 * CPU ms per job of one part in one result. Results written before the bench kept `cpuMsPerJob`
 * give it from the cores each part used over the scenario's wall time.
 */
function cpuMsPerJob(result: ScenarioResult, part: CpuPart): number | null {
  const resources = result.resources;
  if (!resources) return null;
  const kept = (resources.cpuMsPerJob as Record<string, number> | undefined)?.[part];
  if (kept !== undefined) return kept;
  if (result.finished === 0) return null;
  const cores = part === 'system' ? systemCoresOf(resources.cores) : resources.cores[part];
  return cores === undefined ? null : (cores * resources.wallSeconds * 1000) / result.finished;
}

/** Medians per system and scenario over every run that ran it. */
export function summarize(runs: ScenarioResult[][]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const scenario of scenarioNames) {
    for (const system of systems) {
      const results = runs.flat().filter((result) => result.system === system && result.scenario === scenario && !result.skipped);
      if (results.length === 0) continue;
      const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
      const checked = results.filter((result) => result.checks !== null);
      rows.push({
        system,
        scenario,
        runs: results.length,
        throughput: round(median(results.map((result) => result.throughput))),
        p50: round(median(results.map((result) => result.latencyMs.p50))),
        p95: round(median(results.map((result) => result.latencyMs.p95))),
        p99: round(median(results.map((result) => result.latencyMs.p99))),
        checksOk: checked.length === 0 ? null : checked.every((result) => result.checks!.ok),
        cpuMsPerJob: Object.fromEntries(
          cpuParts.map((part) => {
            const value = median(results.map((result) => cpuMsPerJob(result, part)));
            return [part, value === null ? null : Math.round(value * 1000) / 1000];
          }),
        ) as Record<CpuPart, number | null>,
      });
    }
  }
  return rows;
}

function find(summary: SummaryRow[], system: System, scenario: ScenarioName): SummaryRow | undefined {
  return summary.find((row) => row.system === system && row.scenario === scenario);
}

/** top ÷ bottom to `decimals` decimals (two by default); null when either is missing or bottom is 0. */
function ratioOf(top: number | null | undefined, bottom: number | null | undefined, decimals = 2): number | null {
  const scale = 10 ** decimals;
  return top !== null && top !== undefined && bottom ? Math.round((top / bottom) * scale) / scale : null;
}

/** A time of a run as the tables and the chart show it: to the minute, in UTC. */
export function utcMinute(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** The chart's subtitle: what kind of run, over how many runs, on how many cores, when. */
export function chartSubtitle(mode: string, runs: number, cores: number, startedAt: string): string {
  return `${mode} run, ${runs === 1 ? 'one run' : `medians of ${runs} runs`}, ${cores} cores, ${utcMinute(startedAt)}`;
}

/** Ours ÷ baseline and ours ÷ ceiling throughput, for the scenarios all three ran. */
export function ratios(summary: SummaryRow[]): Ratios {
  const out: Ratios = {};
  for (const scenario of scenarioNames) {
    const ours = find(summary, 'ours', scenario)?.throughput ?? null;
    const baseline = find(summary, 'baseline', scenario)?.throughput ?? null;
    const ceiling = find(summary, 'ceiling', scenario)?.throughput ?? null;
    if (ours === null || (baseline === null && ceiling === null)) continue;
    out[scenario] = { oursOverBaseline: ratioOf(ours, baseline), oursOverCeiling: ratioOf(ours, ceiling) };
  }
  return out;
}

/**
 * An earlier results file's figures, summarized again from its runs by this code (files written
 * before the bench kept CPU per job have it derived from their cores).
 */
export function readCompared(file: string): Compared {
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    startedAt: string;
    machine: { gitCommit?: string | null; cpuModel?: string | null };
    runs: ScenarioResult[][];
  };
  return comparedOf(results.runs, {
    file,
    startedAt: results.startedAt,
    gitCommit: results.machine.gitCommit ?? null,
    cpuModel: results.machine.cpuModel ?? null,
  });
}

/** Figures of runs, summarized as a Compared; `file` where they were read from, null when measured in this run. */
export function comparedOf(
  runs: ScenarioResult[][],
  source: { file: string | null; startedAt: string; gitCommit: string | null; cpuModel: string | null },
): Compared {
  const summary = summarize(runs);
  return { ...source, summary, ratios: ratios(summary) };
}

/**
 * Which side of a pair of `--against` runs goes first in run `run` (from 1): the revision, then
 * the checkout, and the other way round in the next pair, so a machine growing slower or faster
 * over the session weighs on both sides alike.
 */
export function sidesOfPair(run: number): readonly ['against', 'checkout'] | readonly ['checkout', 'against'] {
  return run % 2 === 1 ? (['against', 'checkout'] as const) : (['checkout', 'against'] as const);
}

/** One scenario of one pair of `--against` runs: the revision's and the checkout's system CPU ms per job and jobs/s. */
export type PairRow = {
  scenario: ScenarioName;
  pair: number;
  against: { cpuMsPerJob: number | null; loadgenMsPerJob: number | null; throughput: number };
  checkout: { cpuMsPerJob: number | null; loadgenMsPerJob: number | null; throughput: number };
  /** checkout ÷ revision − 1, system CPU per job */
  cpuChange: number | null;
  /**
   * The same, each side's CPU per job counted in its load generator's CPU per job: the load
   * generator does the same work for a job whichever revision serves it, so this leaves out how
   * fast the machine ran during each side's run.
   */
  loadgenChange: number | null;
};

/** after ÷ before − 1 to three decimals; null when either is missing or before is 0. */
function changeOf(after: number | null, before: number | null): number | null {
  const ratio = ratioOf(after, before, 3);
  return ratio === null ? null : Math.round((ratio - 1) * 1000) / 1000;
}

/** What a pair compares of one side's result: its system and load-generator CPU ms per job, and its jobs/s. */
const pairSide = (result: ScenarioResult) => ({
  cpuMsPerJob: cpuMsPerJob(result, 'system'),
  loadgenMsPerJob: cpuMsPerJob(result, 'loadgen'),
  throughput: result.throughput,
});

/** Each pair's change per scenario, in run order: the runs of both sides given in the same order, one list a pair. */
export function pairRows(against: ScenarioResult[][], checkout: ScenarioResult[][]): PairRow[] {
  const rows: PairRow[] = [];
  checkout.forEach((results, index) => {
    for (const result of results) {
      if (result.skipped || result.system !== 'ours') continue;
      const other = against[index]?.find((candidate) => candidate.scenario === result.scenario && candidate.system === 'ours' && !candidate.skipped);
      if (!other) continue;
      const before = pairSide(other);
      const after = pairSide(result);
      rows.push({
        scenario: result.scenario,
        pair: index + 1,
        against: before,
        checkout: after,
        cpuChange: changeOf(after.cpuMsPerJob, before.cpuMsPerJob),
        loadgenChange: changeOf(ratioOf(after.cpuMsPerJob, after.loadgenMsPerJob, 3), ratioOf(before.cpuMsPerJob, before.loadgenMsPerJob, 3)),
      });
    }
  });
  return rows;
}

const percent = (change: number | null) => (change === null ? '–' : `${change > 0 ? '+' : change < 0 ? '−' : ''}${Math.abs(change * 100).toFixed(1)} %`);

/**
 * The pairs as markdown: each pair's system CPU per job and jobs/s, revision → checkout, its change,
 * and its change counted in load-generator CPU (PairRow.loadgenChange); per scenario the medians.
 */
export function markdownPairs(rows: PairRow[], revision: string): string {
  const lines = [
    `| scenario | pair | system CPU ms per job, ${revision} → checkout | change | change, in load-generator CPU | jobs/s, ${revision} → checkout |`,
    '| --- | ---: | --- | ---: | ---: | --- |',
  ];
  for (const scenario of scenarioNames) {
    const ofScenario = rows.filter((row) => row.scenario === scenario);
    if (ofScenario.length === 0) continue;
    for (const row of ofScenario) {
      lines.push(
        `| ${scenario} | ${row.pair} | ${format(row.against.cpuMsPerJob, 3)} → ${format(row.checkout.cpuMsPerJob, 3)} | ${percent(row.cpuChange)} | ` +
          `${percent(row.loadgenChange)} | ${format(row.against.throughput)} → ${format(row.checkout.throughput)} |`,
      );
    }
    const medianOf = (field: 'cpuChange' | 'loadgenChange') => `**${percent(median(ofScenario.map((row) => row[field])))}**`;
    lines.push(`| ${scenario} | median | | ${medianOf('cpuChange')} | ${medianOf('loadgenChange')} | |`);
  }
  return lines.join('\n');
}

/** The targets, judged on the medians; those about CPU per job against the compared run, when there is one. */
export function targets(summary: SummaryRow[], ratio: Ratios, compared?: Compared): Target[] {
  const value = (scenario: ScenarioName, field: 'throughput' | 'p99') => find(summary, 'ours', scenario)?.[field] ?? null;
  const atLeast = (name: string, target: number, got: number | null, unit: string): Target => ({
    name,
    target: `≥ ${target.toLocaleString('en-US')}${unit}`,
    value: got,
    met: got === null ? null : got >= target,
  });
  const halved = (scenario: ScenarioName): Target => {
    const got = ratioOf(find(summary, 'ours', scenario)?.cpuMsPerJob.system, compared && find(compared.summary, 'ours', scenario)?.cpuMsPerJob.system);
    return { name: `${scenario} CPU ms per job ÷ the compared run's`, target: '≤ 0.5×', value: got, met: got === null ? null : got <= 0.5 };
  };
  const p99 = value('hot-1k', 'p99');
  const hot = value('hot', 'throughput');
  const allChecks = summary.filter((row) => row.checksOk !== null);
  return [
    atLeast('hot allocations/s end to end', 5000, hot, '/s'),
    atLeast('hot ÷ baseline', 3, ratio.hot?.oursOverBaseline ?? null, '×'),
    atLeast('hot ÷ ceiling', 0.6, ratio.hot?.oursOverCeiling ?? null, '×'),
    atLeast('spread allocations/s', 5000, value('spread', 'throughput'), '/s'),
    atLeast('spread ÷ ceiling', 0.5, ratio.spread?.oursOverCeiling ?? null, '×'),
    atLeast('spread ÷ hot', 1, ratioOf(value('spread', 'throughput'), hot), '×'),
    halved('hot'),
    halved('spread'),
    { name: 'p99 accept → result at 1,000 jobs/s offered (hot)', target: '≤ 100 ms', value: p99, met: p99 === null ? null : p99 <= 100 },
    atLeast('sync-reserve hot/s', 2500, value('sync-hot', 'throughput'), '/s'),
    atLeast('hot-bulk ÷ hot (batches of 100, same run)', 3, ratioOf(value('hot-bulk', 'throughput'), hot), '×'),
    {
      name: 'scenarios passing the oversell, ledger and units-granted checks',
      target: `all ${allChecks.length}`,
      value: allChecks.filter((row) => row.checksOk).length,
      met: allChecks.length === 0 ? null : allChecks.every((row) => row.checksOk),
    },
  ];
}

const comparedSeries = 'ours, compared run';
const colors: Record<System | typeof comparedSeries, string> = {
  ours: '#2f6fb0',
  [comparedSeries]: '#a9c4e2',
  baseline: '#d9822b',
  ceiling: '#8c8c8c',
};

/**
 * The chart: throughput and p99 per scenario, ours next to the compared run's ours (when there is
 * one), the baseline and the ceiling, rendered by vega-lite to SVG.
 */
export async function renderChart(summary: SummaryRow[], subtitle: string, compared?: Compared): Promise<string> {
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const series = compared ? (['ours', comparedSeries, 'baseline', 'ceiling'] as const) : systems;
  const bars = (row: SummaryRow, name: string) => [
    { scenario: row.scenario, system: name, metric: 'throughput', value: row.throughput },
    { scenario: row.scenario, system: name, metric: 'p99', value: row.p99 },
  ];
  const values = [
    ...summary.flatMap((row) => bars(row, row.system)),
    // only the scenarios this run measured, so the compared run adds no empty groups
    ...(compared?.summary ?? []).filter((row) => row.system === 'ours' && find(summary, 'ours', row.scenario)).flatMap((row) => bars(row, comparedSeries)),
  ];
  // bars of a log scale need a floor to start from; 1 ms sits below every latency worth drawing
  const panel = (metric: string, title: string, scale: Record<string, unknown>, format: string, floor?: number) => ({
    width: 620,
    height: 210,
    transform: [{ filter: `datum.metric === '${metric}' && datum.value !== null` }],
    encoding: {
      x: { field: 'scenario', type: 'nominal', sort: [...scenarioNames], title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'system', sort: [...series] },
      y: { field: 'value', type: 'quantitative', title, scale },
      color: { field: 'system', type: 'nominal', title: null, scale: { domain: [...series], range: series.map((name) => colors[name]) } },
    },
    layer: [
      { mark: { type: 'bar' }, ...(floor === undefined ? {} : { encoding: { y2: { datum: floor } } }) },
      { mark: { type: 'text', dy: -5, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format } } },
    ],
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Stockroom allocation benchmark',
      subtitle: compared ? [subtitle, `${comparedSeries}: ${utcMinute(compared.startedAt)}, ${compared.gitCommit ?? 'unknown commit'}`] : subtitle,
    },
    data: { values },
    config: { font: 'sans-serif', background: 'white' },
    vconcat: [
      panel('throughput', 'jobs/s (first accept → last final result)', { type: 'linear', zero: true }, ',.0f'),
      panel('p99', 'p99 latency, ms (accept → final, log scale)', { type: 'log', domainMin: 1 }, ',.0f', 1),
    ],
  };
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const format = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The figures table, as markdown, with the compared run's throughput and ratio to its ceiling beside ours when there is one. */
export function markdownTable(summary: SummaryRow[], ratio: Ratios, compared?: Compared): string {
  const lines = [
    '| scenario | ours jobs/s | ours p50 / p95 / p99 ms | baseline jobs/s | baseline p99 ms | ceiling jobs/s | ceiling p99 ms | ours ÷ baseline | ours ÷ ceiling | checks |' +
      (compared ? ' compared run: ours jobs/s | compared run: ours ÷ ceiling |' : ''),
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |' + (compared ? ' ---: | ---: |' : ''),
  ];
  for (const scenario of scenarioNames) {
    const ours = find(summary, 'ours', scenario);
    const baseline = find(summary, 'baseline', scenario);
    const ceiling = find(summary, 'ceiling', scenario);
    if (!ours && !baseline && !ceiling) continue;
    const checks = [ours, baseline].filter((row) => row && row.checksOk !== null);
    const before = compared
      ? ` ${format(find(compared.summary, 'ours', scenario)?.throughput)} | ${format(compared.ratios[scenario]?.oursOverCeiling, 2)} |`
      : '';
    lines.push(
      `| ${scenario} | ${format(ours?.throughput)} | ${ours ? `${format(ours.p50, 1)} / ${format(ours.p95, 1)} / ${format(ours.p99, 1)}` : 'not run'} | ` +
        `${format(baseline?.throughput)} | ${format(baseline?.p99, 1)} | ${format(ceiling?.throughput)} | ${format(ceiling?.p99, 1)} | ` +
        `${format(ratio[scenario]?.oursOverBaseline, 2)} | ${format(ratio[scenario]?.oursOverCeiling, 2)} | ` +
        `${checks.length === 0 ? '–' : checks.every((row) => row!.checksOk) ? 'pass' : 'FAIL'} |${before}`,
    );
  }
  return lines.join('\n');
}

/**
 * Ours' CPU ms per job by part, as markdown, beside the ceiling's in the same run (what the same
 * pipeline costs with nothing to decide) and the compared run's.
 */
export function markdownCpuTable(summary: SummaryRow[], compared?: Compared): string {
  const lines = [
    "| CPU ms per job, ours | api | worker | Postgres | RabbitMQ | system | ceiling's system | ÷ ceiling |" + (compared ? ' compared run: system |' : ''),
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |' + (compared ? ' ---: |' : ''),
  ];
  for (const scenario of scenarioNames) {
    const ours = find(summary, 'ours', scenario);
    if (!ours) continue;
    const cpu = ours.cpuMsPerJob;
    const ceiling = find(summary, 'ceiling', scenario)?.cpuMsPerJob.system;
    const overCeiling = cpu.system !== null && ceiling ? cpu.system / ceiling : null;
    const before = compared ? ` ${format(find(compared.summary, 'ours', scenario)?.cpuMsPerJob.system, 3)} |` : '';
    lines.push(
      `| ${scenario} | ${format(cpu.api, 3)} | ${format(cpu.worker, 3)} | ${format(cpu.postgres, 3)} | ${format(cpu.rabbitmq, 3)} | ` +
        `**${format(cpu.system, 3)}** | ${format(ceiling, 3)} | ${format(overCeiling, 1)} |${before}`,
    );
  }
  return lines.join('\n');
}

/** The targets table, as markdown. */
export function markdownTargets(list: Target[]): string {
  return [
    '| target | wanted | measured | met |',
    '| --- | --- | ---: | --- |',
    ...list.map(
      (target) =>
        `| ${target.name} | ${target.target} | ${format(target.value, target.name.includes('÷') ? 2 : 0)} | ${target.met === null ? 'not measured' : target.met ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
}

/** Replaces the text between the benchmark markers of README.md; false when the markers are missing. */
export function updateReadme(readmePath: string, body: string): boolean {
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const text = fs.readFileSync(readmePath, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from === -1 || to === -1 || to < from) return false;
  fs.writeFileSync(readmePath, `${text.slice(0, from + begin.length)}\n${body}\n${text.slice(to)}`);
  return true;
}

/** Writes `name` into the results folder and returns its path. */
export function writeResult(folder: string, name: string, content: string): string {
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  fs.writeFileSync(file, content);
  return file;
}
