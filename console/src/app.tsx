import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, onSignedOut, signOut } from './api';
import { useLive } from './live';
import { DeadLettersPage } from './pages/dead-letters';
import { JobPage, JobsPage } from './pages/jobs';
import { OverviewPage } from './pages/overview';
import { ReservationsPage } from './pages/reservations';
import { StockPage } from './pages/stock';
import { href, useRoute } from './route';
import { forgetToken, storedToken, storeToken } from './session';

const pages = [
  { name: 'overview', label: 'Overview' },
  { name: 'jobs', label: 'Jobs' },
  { name: 'dead-letters', label: 'Dead letters' },
  { name: 'stock', label: 'Stock' },
  { name: 'reservations', label: 'Reservations' },
] as const;

/** The console: the sign-in form until an admin token is given, then the pages. */
export function App() {
  const [signedIn, setSignedIn] = useState(() => storedToken() !== null);
  const [notice, setNotice] = useState<string>();
  useEffect(
    () =>
      onSignedOut((reason) => {
        setSignedIn(false);
        setNotice(`Signed out: ${reason}`);
      }),
    [],
  );
  if (!signedIn) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={() => {
          setNotice(undefined);
          setSignedIn(true);
        }}
      />
    );
  }
  return <Console />;
}

function SignIn({ notice, onSignedIn }: { notice: string | undefined; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    storeToken(token.trim());
    try {
      // Any admin-only call proves the token; this one reads at most one row.
      await api('GET', '/admin/dead-letters', { query: { limit: 1 } });
      onSignedIn();
    } catch (reason) {
      forgetToken();
      const failure = reason instanceof ApiError ? reason : undefined;
      setError(failure?.status === 403 ? 'This token is valid but has not the admin role.' : (failure?.message ?? String(reason)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Stockroom console</h1>
      {notice && <p class="notice">{notice}</p>}
      <form onSubmit={(event) => void submit(event)}>
        <label for="token">Admin token</label>
        <p class="hint" id="token-hint">
          Paste a bearer token with the admin role (for example from <code>npx stockroom token --role admin</code>). It is kept in this tab only and sent in the
          Authorization header.
        </p>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          aria-describedby="token-hint"
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function Console() {
  const route = useRoute();
  const live = useLive();
  const [page = 'overview', id] = route.path;
  const stateLabel = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', closed: 'offline' }[live.state];
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          // The hash names pages here, so the skip link moves focus itself.
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Stockroom</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((entry) => (
              <li key={entry.name}>
                <a href={href(entry.name)} aria-current={page === entry.name ? 'page' : undefined}>
                  {entry.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class={`live live-${live.state}`} role="status" title={live.detail}>
          {stateLabel}
        </span>
        <button type="button" class="link" onClick={() => signOut('you signed out')}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page === 'overview' && <OverviewPage live={live} />}
        {page === 'jobs' && (id ? <JobPage id={id} /> : <JobsPage query={route.query} live={live} />)}
        {page === 'dead-letters' && <DeadLettersPage query={route.query} live={live} />}
        {page === 'stock' && <StockPage productId={id} />}
        {page === 'reservations' && <ReservationsPage query={route.query} />}
        {!pages.some((entry) => entry.name === page) && <p>No such page. Pick one above.</p>}
      </main>
    </>
  );
}
