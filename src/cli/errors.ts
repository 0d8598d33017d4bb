/** Exit codes of the stockroom command, one per kind of failure. */
export const exitCodes = {
  ok: 0,
  /** The operation ran and failed: an allocation failed, the ledger differs, a wait timed out. */
  failed: 1,
  /** Bad usage: an unknown option, a missing argument, an unreadable or invalid file. */
  usage: 2,
  /** Stockroom (or its database) cannot be reached, or answers that a dependency is down. */
  unreachable: 3,
  /** Stockroom refused the request with a 4xx answer. */
  refused: 4,
  /** A destructive command was not confirmed: declined at the prompt, or no terminal to ask on and no --yes. */
  notConfirmed: 5,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The code a failure of each exit code has in --json output, when nothing more precise names it. */
const codeOfExit: Record<ExitCode, string> = {
  0: 'OK',
  1: 'FAILED',
  2: 'USAGE',
  3: 'UNREACHABLE',
  4: 'REFUSED',
  5: 'NOT_CONFIRMED',
};

/** A failure the CLI reports in one line and turns into its exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** The API's error code when Stockroom refused the request (e.g. ALREADY_EXISTS, or OVERLOADED with a 503). */
    readonly apiCode?: string,
    /** When a 503 said to try again, in seconds (to the millisecond when its body said, else its Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }

  /** The code --json names the failure by: the API's, else the kind of failure its exit code stands for. */
  get code(): string {
    return this.apiCode ?? codeOfExit[this.exitCode];
  }
}

/** A failure as --json prints it: one JSON document in the API's error shape, with the exit code. */
export function errorDocument(code: string, message: string, exitCode: ExitCode): string {
  return JSON.stringify({ error: { code, message, exitCode } }, null, 2);
}
