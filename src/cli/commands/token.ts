import { Command, Option } from 'commander';
import { roles, type Role } from '../../auth/roles';
import { durationSeconds, type CommandContext } from '../context';

/** `stockroom token`: mints a bearer token for local use; prints the token and nothing else. */
export function tokenCommand(context: CommandContext): Command {
  return new Command('token')
    .description(
      'mint a bearer token signed with JWT_SECRET (or the development secret), for local use (prints only the token; --json adds its claims and expiry)',
    )
    .addOption(new Option('--role <role>', 'service for order and checkout callers, admin for everything').choices(roles).makeOptionMandatory())
    .option('--sub <name>', 'who the caller is; becomes the actor of every ledger row it causes')
    .option('--tenant <name>', 'the owner of what the caller creates (else its sub): callers of one tenant share their reservations, backorders and jobs')
    .option('--expires <duration>', 'lifetime: seconds, or 15m, 12h, 7d', durationSeconds, 3600)
    .action((options: { role: Role; sub?: string; tenant?: string; expires: number }) => {
      const caller = { sub: options.sub ?? `local-${options.role}`, role: options.role };
      const claims = options.tenant === undefined ? caller : { ...caller, tenant: options.tenant };
      const token = context.mintToken(claims, options.expires);
      const expiresAt = new Date(Date.now() + options.expires * 1000).toISOString();
      context.output.out(context.output.json ? JSON.stringify({ token, ...claims, expiresAt }, null, 2) : token);
    });
}
