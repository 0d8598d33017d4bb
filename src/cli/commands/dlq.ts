import { Command, Option } from 'commander';
import type { z } from 'zod';
import type { BulkDeadLetterAnswer, bulkDeadLetterLimit, deadLetterSchema } from '../../schemas/allocations';
import { confirmDestructive } from '../confirm';
import { CliError, exitCodes } from '../errors';
import { callApi } from '../http';
import { table } from '../output';
import { startProgress } from '../progress';
import { positiveInteger, type CommandContext } from '../context';

/** A dead letter as the admin API shows it, on the wire. */
type DeadLetterView = z.input<typeof deadLetterSchema>;

const base = '/api/v1/admin/dead-letters';

/** `stockroom dlq`: list, inspect, replay and purge dead-lettered messages. */
export function dlqCommand(context: CommandContext): Command {
  const dlq = new Command('dlq').description('list, inspect, replay and purge dead letters');

  dlq
    .command('list')
    .description('list dead letters, newest first')
    .addOption(new Option('--status <status>', 'which dead letters').choices(['open', 'replayed']).default('open'))
    .option('--limit <n>', 'at most this many', positiveInteger, 50)
    .action(async (options: { status: string; limit: number }) => {
      const query = new URLSearchParams({ status: options.status, limit: String(options.limit) });
      const { items } = await callApi<{ items: DeadLetterView[] }>(context.target(), 'GET', `${base}?${query.toString()}`);
      const { output } = context;
      if (output.json) {
        output.out(JSON.stringify(items, null, 2));
        return;
      }
      if (items.length === 0) {
        output.out(`no ${options.status} dead letters`);
        return;
      }
      output.out(
        table(
          ['ID', 'QUEUE', 'ALLOCATION', 'REASON', 'ATTEMPTS', 'CREATED'],
          items.map((letter) => [letter.id, letter.queue, letter.allocationId, letter.reason, letter.attempts, letter.createdAt]),
        ),
      );
    });

  dlq
    .command('show')
    .description('show one dead letter with its errors and payload')
    .argument('<id>', 'the dead letter id')
    .action(async (id: string) => {
      const letter = await callApi<DeadLetterView>(context.target(), 'GET', `${base}/${encodeURIComponent(id)}`);
      const { output } = context;
      if (output.json) {
        output.out(JSON.stringify(letter, null, 2));
        return;
      }
      const rows: [string, string | number | null][] = [
        ['id', letter.id],
        ['status', letter.status],
        ['queue', letter.queue],
        ['allocation', letter.allocationId],
        ['reason', letter.reason],
        ['attempts', letter.attempts],
        ['first error', letter.firstError],
        ['last error', letter.lastError],
        ['created', letter.createdAt],
        ['replayed', letter.replayedAt],
      ];
      output.out(table(['FIELD', 'VALUE'], rows));
      output.out('');
      output.out('payload:');
      output.out(JSON.stringify(letter.payload, null, 2));
    });

  dlq
    .command('replay')
    .description('send a dead letter back to its queue (asks first; --yes without a terminal)')
    .argument('<id>', 'the dead letter id')
    .option('-y, --yes', 'do not ask: needed without a terminal')
    .action(async (id: string, options: { yes?: boolean }) => {
      const target = context.target();
      await confirmDestructive(context.output, `replay dead letter ${id} to its queue`, options.yes);
      const letter = await callApi<DeadLetterView>(target, 'POST', `${base}/${encodeURIComponent(id)}/replay`);
      if (context.output.json) context.output.out(JSON.stringify(letter, null, 2));
      else context.output.out(`replayed dead letter ${id}`);
    });

  dlq
    .command('purge')
    .description('delete one dead letter, or every open one with --all (asks first; --yes without a terminal)')
    .argument('[id]', 'the dead letter id')
    .option('--all', 'delete every open dead letter')
    .option('-y, --yes', 'do not ask: needed without a terminal')
    .action(async (id: string | undefined, options: { all?: boolean; yes?: boolean }) => {
      if (Boolean(id) === Boolean(options.all)) throw new CliError(exitCodes.usage, 'Give a dead letter id, or --all');
      const { output } = context;
      const ids = id ? [id] : await allOpenIds(context);
      if (ids.length > 0) {
        const what = id ? `dead letter ${id}` : `${ids.length} open dead letter${ids.length === 1 ? '' : 's'}`;
        await confirmDestructive(output, `purge ${what} (this cannot be undone)`, options.yes);
      }
      const purged = await purge(context, ids);
      if (output.json) output.out(JSON.stringify(purged, null, 2));
      else {
        output.out(id && purged.purged === 1 ? `purged dead letter ${id}` : `purged ${purged.purged} dead letters`);
        for (const failure of purged.failed) output.err(`not purged: ${failure.id}: ${failure.error}`);
      }
      if (purged.failed.length > 0) context.exitCode = exitCodes.failed;
    });

  return dlq;
}

/** Purges the dead letters named, in chunks of what one bulk call takes, showing progress. */
async function purge(context: CommandContext, ids: readonly string[]): Promise<{ purged: number; ids: string[]; failed: { id: string; error: string }[] }> {
  if (ids.length === 1) {
    // one letter: its own route, so an unknown id is the 404 it is
    await callApi(context.target(), 'DELETE', `${base}/${encodeURIComponent(ids[0]!)}`);
    return { purged: 1, ids: [...ids], failed: [] };
  }
  // typed by the API's own limit, so the two cannot drift apart
  const chunk: typeof bulkDeadLetterLimit = 500;
  const target = context.target();
  const result = { purged: 0, ids: [] as string[], failed: [] as { id: string; error: string }[] };
  const progress = startProgress(context.output, { label: 'purging dead letters', total: ids.length, unit: 'letters' });
  try {
    for (let start = 0; start < ids.length; start += chunk) {
      const batch = ids.slice(start, start + chunk);
      const answer = await callApi<BulkDeadLetterAnswer>(target, 'POST', `${base}/purge`, { body: { ids: batch } });
      for (const item of answer.items) {
        if (item.outcome === 'purged') result.ids.push(item.id);
        else result.failed.push({ id: item.id, error: item.error?.message ?? item.outcome });
      }
      progress.advance(batch.length);
    }
  } finally {
    progress.stop();
  }
  result.purged = result.ids.length;
  return result;
}

async function allOpenIds(context: CommandContext): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ status: 'open', limit: '500', ...(cursor ? { cursor } : {}) });
    const page: { items: DeadLetterView[]; nextCursor: string | null } = await callApi(context.target(), 'GET', `${base}?${query.toString()}`);
    ids.push(...page.items.map((letter) => letter.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}
