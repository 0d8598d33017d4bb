/** What a run leaves behind: the summary (medians over runs), ratios and targets, the JSON file, the chart and the README table. */
import fs from 'node:fs';
import path from 'node:path';
import type { ScenarioResult } from './measure';
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
};

export type Target = { name: string; target: string; value: number | null; met: boolean | null };

export type Ratios = Partial<Record<ScenarioName, { oursOverBaseline: number | null; oursOverCeiling: number | null }>>;

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
      });
    }
  }
  return rows;
}

function find(summary: SummaryRow[], system: System, scenario: ScenarioName): SummaryRow | undefined {
  return summary.find((row) => row.system === system && row.scenario === scenario);
}

/** Ours ÷ baseline and ours ÷ ceiling throughput, for the scenarios all three ran. */
export function ratios(summary: SummaryRow[]): Ratios {
  const out: Ratios = {};
  for (const scenario of scenarioNames) {
    const ours = find(summary, 'ours', scenario)?.throughput ?? null;
    const baseline = find(summary, 'baseline', scenario)?.throughput ?? null;
    const ceiling = find(summary, 'ceiling', scenario)?.throughput ?? null;
    if (ours === null || (baseline === null && ceiling === null)) continue;
    const ratio = (other: number | null) => (other ? Math.round((ours / other) * 100) / 100 : null);
    out[scenario] = { oursOverBaseline: ratio(baseline), oursOverCeiling: ratio(ceiling) };
  }
  return out;
}

/** The issue's targets, judged on the medians. */
export function targets(summary: SummaryRow[], ratio: Ratios): Target[] {
  const value = (scenario: ScenarioName, field: 'throughput' | 'p99') => find(summary, 'ours', scenario)?.[field] ?? null;
  const atLeast = (name: string, target: number, got: number | null, unit: string): Target => ({
    name,
    target: `≥ ${target.toLocaleString('en-US')}${unit}`,
    value: got,
    met: got === null ? null : got >= target,
  });
  const p99 = value('hot-1k', 'p99');
  const [hot, bulk] = [value('hot', 'throughput'), value('hot-bulk', 'throughput')];
  const bulkOverHot = hot && bulk !== null ? Math.round((bulk / hot) * 100) / 100 : null;
  const allChecks = summary.filter((row) => row.checksOk !== null);
  return [
    atLeast('hot allocations/s end to end', 5000, value('hot', 'throughput'), '/s'),
    atLeast('hot ÷ baseline', 3, ratio.hot?.oursOverBaseline ?? null, '×'),
    atLeast('spread allocations/s', 5000, value('spread', 'throughput'), '/s'),
    { name: 'p99 accept → result at 1,000 jobs/s offered (hot)', target: '≤ 100 ms', value: p99, met: p99 === null ? null : p99 <= 100 },
    atLeast('sync-reserve hot/s', 2000, value('sync-hot', 'throughput'), '/s'),
    atLeast('hot-bulk ÷ hot (batches of 100, same run)', 3, bulkOverHot, '×'),
    {
      name: 'scenarios passing the oversell, ledger and units-granted checks',
      target: `all ${allChecks.length}`,
      value: allChecks.filter((row) => row.checksOk).length,
      met: allChecks.length === 0 ? null : allChecks.every((row) => row.checksOk),
    },
  ];
}

const colors: Record<System, string> = { ours: '#2f6fb0', baseline: '#d9822b', ceiling: '#8c8c8c' };

/** The chart: throughput and p99 per scenario, ours next to baseline and ceiling, rendered by vega-lite to SVG. */
export async function renderChart(summary: SummaryRow[], subtitle: string): Promise<string> {
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const values = summary.flatMap((row) => [
    { scenario: row.scenario, system: row.system, metric: 'throughput', value: row.throughput },
    { scenario: row.scenario, system: row.system, metric: 'p99', value: row.p99 },
  ]);
  // bars of a log scale need a floor to start from; 1 ms sits below every latency worth drawing
  const panel = (metric: string, title: string, scale: Record<string, unknown>, format: string, floor?: number) => ({
    width: 620,
    height: 210,
    transform: [{ filter: `datum.metric === '${metric}' && datum.value !== null` }],
    encoding: {
      x: { field: 'scenario', type: 'nominal', sort: [...scenarioNames], title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'system', sort: [...systems] },
      y: { field: 'value', type: 'quantitative', title, scale },
      color: { field: 'system', type: 'nominal', title: null, scale: { domain: [...systems], range: systems.map((system) => colors[system]) } },
    },
    layer: [
      { mark: { type: 'bar' }, ...(floor === undefined ? {} : { encoding: { y2: { datum: floor } } }) },
      { mark: { type: 'text', dy: -5, fontSize: 9 }, encoding: { text: { field: 'value', type: 'quantitative', format } } },
    ],
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Stockroom allocation benchmark', subtitle },
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

/** The figures table, as markdown. */
export function markdownTable(summary: SummaryRow[], ratio: Ratios): string {
  const lines = [
    '| scenario | ours jobs/s | ours p50 / p95 / p99 ms | baseline jobs/s | baseline p99 ms | ceiling jobs/s | ceiling p99 ms | ours ÷ baseline | ours ÷ ceiling | checks |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const scenario of scenarioNames) {
    const ours = find(summary, 'ours', scenario);
    const baseline = find(summary, 'baseline', scenario);
    const ceiling = find(summary, 'ceiling', scenario);
    if (!ours && !baseline && !ceiling) continue;
    const checks = [ours, baseline].filter((row) => row && row.checksOk !== null);
    lines.push(
      `| ${scenario} | ${format(ours?.throughput)} | ${ours ? `${format(ours.p50, 1)} / ${format(ours.p95, 1)} / ${format(ours.p99, 1)}` : 'not run'} | ` +
        `${format(baseline?.throughput)} | ${format(baseline?.p99, 1)} | ${format(ceiling?.throughput)} | ${format(ceiling?.p99, 1)} | ` +
        `${format(ratio[scenario]?.oursOverBaseline, 2)} | ${format(ratio[scenario]?.oursOverCeiling, 2)} | ` +
        `${checks.length === 0 ? '–' : checks.every((row) => row!.checksOk) ? 'pass' : 'FAIL'} |`,
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
