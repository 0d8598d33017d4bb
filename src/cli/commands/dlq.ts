import { Command, Option } from 'commander';
import type { z } from 'zod';
import type { deadLetterSchema } from '../../schemas/allocations';
import { CliError, exitCodes } from '../errors';
import { callApi } from '../http';
import { table } from '../output';
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
    .description('send a dead letter back to its queue')
    .argument('<id>', 'the dead letter id')
    .action(async (id: string) => {
      await callApi(context.target(), 'POST', `${base}/${encodeURIComponent(id)}/replay`);
      context.output.out(`replayed dead letter ${id}`);
    });

  dlq
    .command('purge')
    .description('delete one dead letter, or every open one with --all')
    .argument('[id]', 'the dead letter id')
    .option('--all', 'delete every open dead letter')
    .action(async (id: string | undefined, options: { all?: boolean }) => {
      if (Boolean(id) === Boolean(options.all)) throw new CliError(exitCodes.usage, 'Give a dead letter id, or --all');
      const target = context.target();
      const ids = id ? [id] : await allOpenIds(context);
      for (const each of ids) await callApi(target, 'DELETE', `${base}/${encodeURIComponent(each)}`);
      context.output.out(id ? `purged dead letter ${id}` : `purged ${ids.length} dead letters`);
    });

  return dlq;
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
