import { forgetToken, storedToken } from './session';

/** The API's error answer `{ error: { code, message, details? } }`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

type Listener = (reason: string) => void;
const signOutListeners = new Set<Listener>();

/** Called when the API refuses the token (401): the console goes back to its sign-in form. */
export function onSignedOut(listener: Listener): () => void {
  signOutListeners.add(listener);
  return () => signOutListeners.delete(listener);
}

/** Drops the token and tells the app, with why. */
export function signOut(reason: string): void {
  forgetToken();
  for (const listener of signOutListeners) listener(reason);
}

/** The bearer header for a token: the only place the token leaves session storage. */
export function authHeaders(token = storedToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Turns an error answer into an ApiError; a 401 signs the console out. */
export async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string; details?: unknown } } | null;
  const error = new ApiError(
    response.status,
    body?.error?.code ?? 'HTTP_' + String(response.status),
    body?.error?.message ?? response.statusText,
    body?.error?.details,
  );
  if (response.status === 401) signOut(error.message);
  return error;
}

type Query = Record<string, string | number | boolean | undefined | null>;

/** `/api/v1` + path, with the query's set values. */
export function apiUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const search = params.toString();
  return `/api/v1${path}${search ? `?${search}` : ''}`;
}

/** Calls the API as the signed-in admin; resolves with the JSON answer (undefined for 204), rejects with ApiError. */
export async function api<T>(method: string, path: string, options: { query?: Query; body?: unknown; idempotencyKey?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      cache: 'no-store',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'The API did not answer; is Stockroom running?');
  }
  if (!response.ok) throw await errorOf(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}
