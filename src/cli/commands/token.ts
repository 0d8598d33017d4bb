import { Command, Option } from 'commander';
import { roles, type Role } from '../../auth/tokens';
import { durationSeconds, type CommandContext } from '../context';

/** `stockroom token`: mints a bearer token for local use; prints the token and nothing else. */
export function tokenCommand(context: CommandContext): Command {
  return new Command('token')
    .description('mint a bearer token signed with JWT_SECRET (or the development secret), for local use (prints only the token)')
    .addOption(new Option('--role <role>', 'service for order and checkout callers, admin for everything').choices(roles).makeOptionMandatory())
    .option('--sub <name>', 'who the caller is; becomes the actor of every ledger row it causes')
    .option('--tenant <name>', 'the owner of what the caller creates (else its sub): callers of one tenant share their reservations, backorders and jobs')
    .option('--expires <duration>', 'lifetime: seconds, or 15m, 12h, 7d', durationSeconds, 3600)
    .action((options: { role: Role; sub?: string; tenant?: string; expires: number }) => {
      const caller = { sub: options.sub ?? `local-${options.role}`, role: options.role };
      const token = context.mintToken(options.tenant === undefined ? caller : { ...caller, tenant: options.tenant }, options.expires);
      context.output.out(token);
    });
}
