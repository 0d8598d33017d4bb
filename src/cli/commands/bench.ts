import { spawn } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../../package';
import type { CommandContext } from '../context';
import { exitCodes } from '../errors';

/** `stockroom bench [options…]`: runs the benchmark (bench/run.ts, docs/benchmark.md) with the options given, e.g. --quick. */
export function benchCommand(context: CommandContext): Command {
  return new Command('bench')
    .description('run the benchmark next to a naive baseline and a ceiling probe (docs/benchmark.md); e.g. `stockroom bench --quick`')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[options...]', 'options of the benchmark; --help lists them')
    .action(async (args: string[]) => {
      const script = path.join(packageRoot, 'bench', 'run.ts');
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' });
        child.once('exit', resolve);
        child.once('error', () => resolve(null));
      });
      // the benchmark exits 1 when a check failed and 2 when it could not run at all
      context.exitCode = code === 0 ? exitCodes.ok : code === 1 ? exitCodes.failed : exitCodes.unreachable;
    });
}
