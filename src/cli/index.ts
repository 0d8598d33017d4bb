import { isatty } from 'node:tty';
import { Command, CommanderError, Option } from 'commander';
import { benchCommand } from './commands/bench';
import { dlqCommand } from './commands/dlq';
import { enqueueCommand, statusCommand } from './commands/jobs';
import { seedCommand } from './commands/seed';
import { tokenCommand } from './commands/token';
import { createContext, positiveInteger, type GlobalOptions } from './context';
import { CliError, errorDocument, exitCodes, type ExitCode } from './errors';
import type { Output, OutputSettings } from './output';
import { reconcileCommand } from './reconcile';
import { packageVersion } from '../package';

/** The output of a real run: stdout for results, stderr for progress, prompts and errors. */
export function processOutput(settings: OutputSettings): Output {
  return {
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    draw: (text) => void process.stderr.write(text),
    interactive: isatty(process.stderr.fd),
    canAsk: isatty(process.stdin.fd) && isatty(process.stderr.fd),
    async ask(question) {
      const { createInterface } = await import('node:readline/promises');
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await prompt.question(question);
      } finally {
        prompt.close();
      }
    },
    ...settings,
  };
}

/** Builds the `stockroom` program; `output` decides where results and messages go. */
export function buildProgram(makeOutput: (settings: OutputSettings) => Output = processOutput): { program: Command; exitCode: () => number } {
  const program = new Command('stockroom')
    .description(
      'Operate Stockroom: enqueue and follow allocation jobs, handle dead letters, seed demo data, reconcile the ledger, mint tokens, run the benchmark.',
    )
    .version(packageVersion)
    .addOption(new Option('--url <url>', 'the Stockroom API every command but reconcile talks to').env('STOCKROOM_URL').default('http://127.0.0.1:3000'))
    .addOption(
      new Option(
        '--database-url <url>',
        "the database reconcile reads (and bench's Postgres server): else DATABASE_URL, else the service's default, postgres://postgres@127.0.0.1:5432/stockroom",
      ).env('STOCKROOM_DATABASE_URL'),
    )
    .addOption(
      new Option('--token <jwt>', 'bearer token (default: a short-lived admin token signed with JWT_SECRET or the development secret)').env('STOCKROOM_TOKEN'),
    )
    .addOption(new Option('--timeout <ms>', 'give up on one HTTP call after this long').argParser(positiveInteger).default(10_000))
    .option('--json', 'print the result, or the error, as one JSON document on stdout')
    .addOption(
      new Option('--progress-interval <seconds>', 'without a terminal, write a progress line at most this often')
        .env('STOCKROOM_PROGRESS_INTERVAL')
        .argParser(positiveInteger)
        .default(5),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const options = () => program.opts<GlobalOptions>();
  const context = createContext(
    options,
    () => makeOutput({ json: options().json ?? false, progressIntervalMs: options().progressInterval * 1000 }),
    (option) => program.getOptionValueSource(option),
  );
  for (const command of [enqueueCommand, statusCommand, dlqCommand, seedCommand, reconcileCommand, tokenCommand, benchCommand]) {
    program.addCommand(command(context));
  }
  // Usage errors of subcommands must not exit the process either; they become exit code 2.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  return { program, exitCode: () => context.exitCode };
}

/**
 * Runs the CLI with `argv` (as process.argv) and resolves to its exit code; never exits the process
 * itself. A failure is one line on stderr and, with --json, also a JSON document on stdout.
 */
export async function main(argv: readonly string[], makeOutput: (settings: OutputSettings) => Output = processOutput): Promise<number> {
  const { program, exitCode } = buildProgram(makeOutput);
  const output = makeOutput({ json: false, progressIntervalMs: 5000 });
  const fail = (code: string, message: string, exit: ExitCode, printed = false): ExitCode => {
    if (!printed) output.err(`stockroom: ${message}`);
    // --json counts even when the command line around it did not parse
    if (program.opts<GlobalOptions>().json ?? argv.includes('--json')) output.out(errorDocument(code, message, exit));
    return exit;
  };
  try {
    await program.parseAsync([...argv]);
    return exitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed help, the version or the parse error; only the first two succeed.
      if (error.exitCode === 0) return exitCodes.ok;
      return fail('USAGE', error.message.replace(/^error: /, ''), exitCodes.usage, true);
    }
    if (error instanceof CliError) return fail(error.code, error.message, error.exitCode);
    return fail('INTERNAL', `unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, exitCodes.failed);
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
