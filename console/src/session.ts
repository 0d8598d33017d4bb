// The admin token lives in this tab's session storage only: pasted once, gone when the tab closes,
// never written into a URL.
const key = 'stockroom.console.token';

/** The token this tab signed in with, if any. */
export function storedToken(): string | null {
  return sessionStorage.getItem(key);
}

/** Keeps the token for the rest of this tab's life. */
export function storeToken(token: string): void {
  sessionStorage.setItem(key, token);
}

/** Forgets the token (sign out, or the API refused it). */
export function forgetToken(): void {
  sessionStorage.removeItem(key);
}
