import { Command, Option } from 'commander';
import { roles, type Role } from '../../auth/tokens';
import { durationSeconds, type CommandContext } from '../context';

/** `stockroom token`: mints a bearer token for local use; prints the token and nothing else. */
export function tokenCommand(context: CommandContext): Command {
  return new Command('token')
    .description('mint a bearer token signed with JWT_SECRET (or the development secret), for local use (prints only the token)')
    .addOption(new Option('--role <role>', 'service for order and checkout callers, admin for everything').choices(roles).makeOptionMandatory())
    .option('--sub <name>', 'who the caller is; becomes the actor of every ledger row it causes')
    .option('--expires <duration>', 'lifetime: seconds, or 15m, 12h, 7d', durationSeconds, 3600)
    .action((options: { role: Role; sub?: string; expires: number }) => {
      const token = context.mintToken({ sub: options.sub ?? `local-${options.role}`, role: options.role }, options.expires);
      context.output.out(token);
    });
}
