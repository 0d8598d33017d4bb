import { InvalidArgumentError } from 'commander';
import type { Caller } from '../auth/tokens';
import type { Config } from '../config';
import { CliError, exitCodes, type ExitCode } from './errors';
import type { ApiTarget } from './http';
import { configModule, tokensModule } from './lazy';
import type { Output } from './output';

/** The options every command shares. */
export type GlobalOptions = { url: string; token?: string; timeout: number; json?: boolean; progressInterval: number; databaseUrl?: string };

/** The database a command reads directly, and which setting named it (for messages). */
export type DatabaseTarget = { url: string; source: string };

/** What a command needs: where to write, the service config, and the API and database it talks to. */
export type CommandContext = {
  output: Output;
  /** What the run exits with when no error was thrown; a command sets it to report a failed outcome. */
  exitCode: ExitCode;
  config(): Config;
  /** A token for `caller`, signed as the service running with this environment expects. */
  mintToken(caller: Caller, expiresInSeconds: number): string;
  target(): ApiTarget;
  /** --database-url, else STOCKROOM_DATABASE_URL, else DATABASE_URL, else the service's default (empty counts as unset). */
  database(): DatabaseTarget;
};

/** Turns a config problem into bad usage (exit 2), naming the variable. */
function asUsage<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof configModule().ConfigError) throw new CliError(exitCodes.usage, error.message);
    throw error;
  }
}

/**
 * Builds the context of one run from the global options; the config is read only when a command
 * needs it. `sourceOf` says where an option's value came from (commander: cli, env, default).
 */
export function createContext(options: () => GlobalOptions, output: () => Output, sourceOf: (option: 'databaseUrl') => string | undefined): CommandContext {
  let config: Config | undefined;
  const context: CommandContext = {
    exitCode: exitCodes.ok,
    get output() {
      return output();
    },
    config() {
      config ??= asUsage(() => configModule().loadConfig());
      return config;
    },
    mintToken(caller, expiresInSeconds) {
      const config = context.config();
      const { signingSecret, signToken } = tokensModule();
      const signing = asUsage(() => signingSecret(config));
      if (!signing) {
        throw new CliError(
          exitCodes.usage,
          'JWT_SECRET is not set, so there is no secret to sign with: this service takes tokens signed elsewhere (JWT_PUBLIC_KEY_FILE / JWT_JWKS_FILE, or NODE_ENV=production); pass --token',
        );
      }
      return signToken(signing.secret, caller, expiresInSeconds, config);
    },
    target() {
      const { url, token, timeout } = options();
      // Without a token, mint a short-lived admin one: the CLI is an operator's tool.
      return { url, timeoutMs: timeout, token: token ?? context.mintToken({ sub: 'stockroom-cli', role: 'admin' }, 600) };
    },
    database() {
      const { databaseUrl } = options();
      const target = databaseUrl
        ? { url: databaseUrl, source: sourceOf('databaseUrl') === 'env' ? 'STOCKROOM_DATABASE_URL' : '--database-url' }
        : process.env.DATABASE_URL
          ? { url: process.env.DATABASE_URL, source: 'DATABASE_URL' }
          : { url: asUsage(() => configModule().loadConfig({}).DATABASE_URL), source: "the service's default" };
      if (!/^postgres(ql)?:\/\/[^/]/.test(target.url) || !URL.canParse(target.url)) {
        throw new CliError(exitCodes.usage, `The database URL from ${target.source} is not a postgres:// URL`);
      }
      return target;
    },
  };
  return context;
}

/** Parses a positive whole number option, or refuses it as bad usage. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return parsed;
}

/** Parses a duration such as 90, 90s, 15m, 12h or 7d into seconds. */
export function durationSeconds(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected seconds or a duration such as 15m, 12h or 7d');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0) throw new InvalidArgumentError('must be longer than zero');
  return seconds;
}
