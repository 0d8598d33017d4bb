import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScenarioResult } from '../../bench/measure';
import {
  comparedOf,
  markdownCpuTable,
  markdownPairs,
  markdownTable,
  pairRows,
  ratios,
  readCompared,
  sidesOfPair,
  summarize,
  targets,
  type Compared,
} from '../../bench/report';
import type { ScenarioName, System } from '../../bench/scenarios';

/** A result with only what the report reads; CPU per job kept as the bench keeps it now. */
function result(system: System, scenario: ScenarioName, throughput: number, cpu: Record<string, number>): ScenarioResult {
  return {
    system,
    scenario,
    throughput,
    finished: 1000,
    latencyMs: { p50: 10, p95: 20, p99: 30, max: 40, count: 1000 },
    checks: { ok: true },
    resources: { wallSeconds: 1000 / throughput, cores: {}, cpuMsPerJob: cpu },
  } as unknown as ScenarioResult;
}

/** A result as files written before the bench kept CPU per job have it: cores over the wall time only. */
function olderResult(system: System, scenario: ScenarioName, cores: Record<string, number>): ScenarioResult {
  return {
    system,
    scenario,
    throughput: 500,
    finished: 1000,
    latencyMs: { p50: 10, p95: 20, p99: 30, max: 40, count: 1000 },
    checks: { ok: true },
    resources: { wallSeconds: 2, cores },
  } as unknown as ScenarioResult;
}

const cpu = (system: number) => ({ api: 0.1, worker: 0.1, postgres: 0.2, rabbitmq: 0.1, loadgen: 0.05, system });

function compare(runs: ScenarioResult[][]): Compared {
  return comparedOf(runs, { file: 'earlier.json', startedAt: '2026-12-01T03:58:59Z', gitCommit: 'efa444e', cpuModel: 'x' });
}

describe('bench report', () => {
  it('takes the median CPU per job of every part over the runs', () => {
    const [row] = summarize([[result('ours', 'hot', 1000, cpu(0.5))], [result('ours', 'hot', 1100, cpu(0.7))], [result('ours', 'hot', 900, cpu(0.6))]]);
    expect(row!.throughput).toBe(1000);
    expect(row!.cpuMsPerJob).toEqual({ api: 0.1, worker: 0.1, postgres: 0.2, rabbitmq: 0.1, loadgen: 0.05, system: 0.6 });
  });

  it('derives CPU per job from cores for results written before it was kept, leaving the load generator out of the system', () => {
    const [row] = summarize([[olderResult('ours', 'hot', { api: 0.5, worker: 0.25, postgres: 0.75, rabbitmq: 0.25, loadgen: 0.5 })]]);
    // cores × 2 s wall ÷ 1,000 jobs, in ms
    expect(row!.cpuMsPerJob).toEqual({ api: 1, worker: 0.5, postgres: 1.5, rabbitmq: 0.5, loadgen: 1, system: 3.5 });
  });

  it('judges the ratio targets and the halving of CPU per job against the compared run', () => {
    const now = summarize([
      [
        result('ours', 'hot', 3000, cpu(0.5)),
        result('ours', 'spread', 2400, cpu(0.7)),
        result('ceiling', 'hot', 6000, cpu(0.1)),
        result('ceiling', 'spread', 6000, cpu(0.1)),
      ],
    ]);
    const before = compare([[result('ours', 'hot', 1500, cpu(1.0)), result('ours', 'spread', 1000, cpu(1.3))]]);
    const list = targets(now, ratios(now), before);
    const named = (name: string) => list.find((target) => target.name === name);
    expect(named('hot ÷ ceiling')).toMatchObject({ value: 0.5, met: false });
    expect(named('spread ÷ ceiling')).toMatchObject({ value: 0.4, met: false });
    expect(named('spread ÷ hot')).toMatchObject({ value: 0.8, met: false });
    expect(named("hot CPU ms per job ÷ the compared run's")).toMatchObject({ value: 0.5, met: true });
    expect(named("spread CPU ms per job ÷ the compared run's")).toMatchObject({ value: 0.54, met: false });
    expect(targets(now, ratios(now)).find((target) => target.name.startsWith('hot CPU'))).toMatchObject({ value: null, met: null });
  });

  it("puts the compared run's figures beside this run's in the tables", () => {
    const now = summarize([[result('ours', 'hot', 3000, cpu(0.5)), result('ceiling', 'hot', 6000, cpu(0.125))]]);
    const before = compare([[result('ours', 'hot', 1500, cpu(1.06)), result('ceiling', 'hot', 3000, cpu(0.33))]]);
    expect(markdownTable(now, ratios(now), before).split('\n')[2]).toBe(
      '| hot | 3,000 | 10.0 / 20.0 / 30.0 | – | – | 6,000 | 30.0 | – | 0.50 | pass | 1,500 | 0.50 |',
    );
    expect(markdownCpuTable(now, before).split('\n')[2]).toBe('| hot | 0.100 | 0.100 | 0.200 | 0.100 | **0.500** | 0.125 | 4.0 | 1.060 |');
    expect(markdownTable(now, ratios(now)).split('\n')[0]).not.toContain('compared');
  });

  it('reads an earlier results file and summarizes it with this code', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-')), 'earlier.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        startedAt: '2026-12-01T03:58:59Z',
        machine: { gitCommit: 'efa444e', cpuModel: 'x' },
        runs: [[olderResult('ours', 'spread', { api: 0.5, worker: 0.5, postgres: 0.5, rabbitmq: 0.5, loadgen: 0.1 })]],
      }),
    );
    const earlier = readCompared(file);
    expect(earlier).toMatchObject({ gitCommit: 'efa444e', startedAt: '2026-12-01T03:58:59Z' });
    expect(earlier.summary[0]).toMatchObject({ system: 'ours', scenario: 'spread', throughput: 500, cpuMsPerJob: { system: 4 } });
  });

  it('runs the two sides of --against pairs in turn, so drift of the machine weighs on both alike', () => {
    expect([1, 2, 3, 4].map(sidesOfPair)).toEqual([
      ['against', 'checkout'],
      ['checkout', 'against'],
      ['against', 'checkout'],
      ['checkout', 'against'],
    ]);
  });

  it("gives each pair's change in CPU per job, also counted in load-generator CPU, scenario by scenario, with its medians", () => {
    const skippedSpread = { ...result('ours', 'spread', 0, cpu(0)), skipped: 'no such endpoint' } as unknown as ScenarioResult;
    // the load generator's CPU per job stands for how fast the machine ran: 0.05 ms, or 0.06 when it ran slower
    const slower = (system: number) => ({ ...cpu(system), loadgen: 0.06 });
    const against = [
      [result('ours', 'hot', 1000, cpu(1.0)), result('ours', 'spread', 800, cpu(1.2))],
      [result('ours', 'hot', 900, cpu(1.2)), skippedSpread],
      [result('ours', 'hot', 1000, cpu(1.0))],
    ];
    const checkout = [
      [result('ours', 'hot', 1200, cpu(0.8)), result('ours', 'spread', 900, cpu(1.08))],
      [result('ours', 'hot', 1000, slower(1.08)), result('ours', 'spread', 950, cpu(1.0))],
      [result('ours', 'hot', 1100, cpu(0.95))],
    ];
    const rows = pairRows(against, checkout);
    expect(rows.map((row) => [row.scenario, row.pair, row.cpuChange, row.loadgenChange])).toEqual([
      ['hot', 1, -0.2, -0.2],
      ['spread', 1, -0.1, -0.1],
      ['hot', 2, -0.1, -0.25],
      ['hot', 3, -0.05, -0.05],
    ]);
    const table = markdownPairs(rows, 'abc1234').split('\n');
    expect(table[0]).toBe(
      '| scenario | pair | system CPU ms per job, abc1234 → checkout | change | change, in load-generator CPU | jobs/s, abc1234 → checkout |',
    );
    expect(table.slice(2)).toEqual([
      '| hot | 1 | 1.000 → 0.800 | −20.0 % | −20.0 % | 1,000 → 1,200 |',
      '| hot | 2 | 1.200 → 1.080 | −10.0 % | −25.0 % | 900 → 1,000 |',
      '| hot | 3 | 1.000 → 0.950 | −5.0 % | −5.0 % | 1,000 → 1,100 |',
      '| hot | median | | **−10.0 %** | **−20.0 %** | |',
      '| spread | 1 | 1.200 → 1.080 | −10.0 % | −10.0 % | 800 → 900 |',
      '| spread | median | | **−10.0 %** | **−10.0 %** | |',
    ]);
  });
});
