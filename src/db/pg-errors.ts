import { AppError } from '../errors';

type PgError = Error & { code?: string; constraint?: string; detail?: string };

// 25P03: the server ended a session left idle in a transaction longer than idle_in_transaction_session_timeout
const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300', '25P03']);

/** lock_timeout ran out (55P03) or statement_timeout cancelled the statement (57014). */
const timeoutCodes = new Set(['55P03', '57014']);

/** The SQLSTATE or socket error code of a driver error, if it has one. */
export function pgCode(error: unknown): string | undefined {
  // duck-typed: socket errors come from Node's own realm, where `instanceof Error` can fail (jest's sandbox)
  const code = typeof error === 'object' && error !== null ? (error as Partial<PgError>).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function pgMessage(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as Partial<PgError>).message : undefined;
  return typeof message === 'string' ? message : '';
}

/** Serialization failures, deadlocks and session timeouts: the same transaction may succeed when run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = pgCode(error);
  return code === '40001' || code === '40P01' || isSessionTimeout(error);
}

/** A statement gave up waiting for a lock (lock_timeout) or ran out of time (statement_timeout). */
export function isSessionTimeout(error: unknown): boolean {
  const code = pgCode(error);
  return code !== undefined && timeoutCodes.has(code);
}

/** A unique violation of the named constraint. */
export function isUniqueViolationOf(error: unknown, constraint: string): boolean {
  return pgCode(error) === '23505' && (error as PgError).constraint === constraint;
}

/** The database cannot be reached or is going away: the caller should get 503 and try later. */
export function isConnectionError(error: unknown): boolean {
  const code = pgCode(error);
  if (code !== undefined && (connectionErrorCodes.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(pgMessage(error));
}

/**
 * The database away or busy (a lost connection, a serialization failure, a deadlock, a session
 * timeout): the same work may succeed later. Every other error is the work's own and will not pass.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  return isConnectionError(error) || isRetryableTransactionError(error);
}

// SQLSTATE class 22 (data exception): a value the database cannot store. Messages name the kind of
// problem, never the value (the driver's own message quotes it).
const dataExceptionMessages: Record<string, string> = {
  '22001': 'A text value is longer than the database can store',
  '22003': 'A number is out of the range the database can store',
  '22007': 'A date or time is not in a form the database can read',
  '22008': 'A date or time is out of the range the database can store',
  '22021': 'A text value holds a character the database cannot store (such as NUL)',
  '22P02': 'A value is not in the form the database expects',
  '22P05': 'A text value holds a character the database cannot store (such as a lone surrogate)',
};

/** Translates a driver error into the AppError a caller should see; anything else is rethrown as is. */
export function translatePgError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = pgCode(error);
  const pgError = error as PgError;
  if (isConnectionError(error)) return new AppError('DEPENDENCY_UNAVAILABLE', 'The database is unavailable; try again shortly');
  if (isSessionTimeout(error)) return new AppError('DEPENDENCY_UNAVAILABLE', 'The stock is busy with other changes; try again shortly');
  if (isRetryableTransactionError(error)) return new AppError('CONFLICT', 'A concurrent change got in the way; try again');
  switch (code) {
    case '23505':
      return new AppError('ALREADY_EXISTS', 'A record with the same identity already exists', { constraint: pgError.constraint });
    case '23503':
      return new AppError('UNKNOWN_REFERENCE', 'A referenced record does not exist', { constraint: pgError.constraint });
    case '23514':
      return new AppError('INSUFFICIENT_STOCK', 'The change would break a stock invariant', { constraint: pgError.constraint });
    default:
      if (code?.startsWith('22')) return new AppError('VALIDATION_FAILED', dataExceptionMessages[code] ?? 'A value cannot be stored', { sqlstate: code });
      return error;
  }
}
