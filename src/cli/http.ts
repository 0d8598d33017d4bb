import { CliError, exitCodes } from './errors';

/** Where the CLI talks to and with which bearer token. */
export type ApiTarget = { url: string; token: string; timeoutMs: number };

type ErrorBody = { error?: { code?: string; message?: string; details?: { issues?: { path?: string; message?: string }[] } } };

function describeRefusal(status: number, body: ErrorBody | undefined, fallback: string): string {
  const error = body?.error;
  if (!error?.code) return `HTTP ${status}: ${fallback.slice(0, 200) || 'no details'}`;
  const issues = (error.details?.issues ?? []).map((issue) => `\n  ${issue.path || '(body)'}: ${issue.message}`).join('');
  return `${status} ${error.code}: ${error.message ?? ''}${issues}`;
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Calls the Stockroom API and returns the parsed JSON answer. A network failure exits 3, a 4xx
 * answer exits 4 (with the error code and message), a 503 exits 3, any other 5xx exits 1.
 */
export async function callApi<T>(
  target: ApiTarget,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL(path, target.url), {
      method,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${target.token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    throw new CliError(exitCodes.unreachable, `Cannot reach Stockroom at ${target.url}: ${networkReason(error)}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok) return body as T;
  const message = describeRefusal(response.status, body as ErrorBody | undefined, text);
  if (response.status >= 400 && response.status < 500) throw new CliError(exitCodes.refused, message, (body as ErrorBody | undefined)?.error?.code);
  if (response.status === 503) {
    // the body's wait to the millisecond when it gives one (OVERLOADED), else the header's whole seconds
    const waitMs = (body as { error?: { details?: { retryAfterMs?: unknown } } } | undefined)?.error?.details?.retryAfterMs;
    const retryAfter = typeof waitMs === 'number' ? waitMs / 1000 : Number(response.headers.get('retry-after'));
    throw new CliError(
      exitCodes.unreachable,
      `Stockroom is not ready: ${message}`,
      (body as ErrorBody | undefined)?.error?.code,
      Number.isFinite(retryAfter) ? retryAfter : undefined,
    );
  }
  throw new CliError(exitCodes.failed, `Stockroom failed: ${message}`);
}
