/**
 * Draws the chart of a results file again (e.g. after a change to the chart):
 * npx tsx bench/chart.ts bench/results/<timestamp>.json [out.svg]
 */
import fs from 'node:fs';
import { chartSubtitle, renderChart, type Compared, type SummaryRow } from './report';

async function main(): Promise<void> {
  const [input, output] = process.argv.slice(2);
  if (!input) throw new Error('usage: npx tsx bench/chart.ts <results.json> [out.svg]');
  const results = JSON.parse(fs.readFileSync(input, 'utf8')) as {
    mode: string;
    startedAt: string;
    summary: SummaryRow[];
    settings: { runs: number };
    machine: { cores: number };
    compared?: Compared | null;
  };
  const subtitle = chartSubtitle(results.mode, results.settings.runs, results.machine.cores, results.startedAt);
  const target = output ?? input.replace(/\.json$/, '.svg');
  fs.writeFileSync(target, await renderChart(results.summary, subtitle, results.compared ?? undefined));
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
