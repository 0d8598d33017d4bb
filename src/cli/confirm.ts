import { CliError, exitCodes } from './errors';
import type { Output } from './output';

/**
 * Lets a destructive command go ahead: at once with --yes; after a `y` at the prompt on a terminal;
 * never without a terminal (a script, CI), which must say --yes. Refusing throws exit 5 before
 * anything changed. `action` says what would happen, e.g. `purge 3 open dead letters`.
 */
export async function confirmDestructive(output: Output, action: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!output.canAsk) {
    throw new CliError(exitCodes.notConfirmed, `Refusing to ${action} without confirmation: there is no terminal to ask on; pass --yes. Nothing changed.`);
  }
  const answer = await output.ask(`About to ${action}. Go ahead? [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError(exitCodes.notConfirmed, 'Not confirmed. Nothing changed.');
}
