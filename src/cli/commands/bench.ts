import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../../package';
import type { CommandContext } from '../context';
import { CliError, exitCodes } from '../errors';

/**
 * `stockroom bench [options…]`: runs the benchmark (bench/run.ts, docs/benchmark.md) with the options
 * given, e.g. --quick, on the Postgres server of --database-url. With --json its tables go to
 * stderr and its JSON report to stdout.
 */
export function benchCommand(context: CommandContext): Command {
  return new Command('bench')
    .description(
      'run the benchmark next to a naive baseline and a ceiling probe (docs/benchmark.md), on fresh databases of the --database-url server; e.g. `stockroom bench --quick`',
    )
    .helpOption(false)
    .allowUnknownOption()
    .argument('[options...]', 'options of the benchmark; --help lists them')
    .action(async (args: string[]) => {
      const { json } = context.output;
      const reportDir = json ? await mkdtemp(path.join(tmpdir(), 'stockroom-bench-')) : undefined;
      const report = reportDir && path.join(reportDir, 'report.json');
      // the benchmark makes its databases on the server the database URL names (else BENCH_DATABASE_URL, DATABASE_URL, the local one)
      const database = context.database();
      const named = database.source === '--database-url' || database.source === 'STOCKROOM_DATABASE_URL';
      const env = { ...process.env, ...(named ? { BENCH_DATABASE_URL: database.url } : {}) };
      try {
        const script = path.join(packageRoot, 'bench', 'run.ts');
        const code = await new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', script, ...args, ...(report ? ['--report', report] : [])], {
            env,
            // with --json, stdout carries the report alone
            stdio: ['inherit', json ? process.stderr : 'inherit', 'inherit'],
          });
          child.once('exit', resolve);
          child.once('error', () => resolve(null));
        });
        // the benchmark exits 1 when a check failed and 2 when it could not run at all
        context.exitCode = code === 0 ? exitCodes.ok : code === 1 ? exitCodes.failed : exitCodes.unreachable;
        if (report) {
          const text = await readFile(report, 'utf8').catch(() => undefined);
          if (text === undefined) throw new CliError(context.exitCode === exitCodes.ok ? exitCodes.failed : context.exitCode, 'The benchmark wrote no report');
          context.output.out(text.trimEnd());
        }
      } finally {
        if (reportDir) await rm(reportDir, { recursive: true, force: true });
      }
    });
}
