import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { formText, fromLocalInput, number, relative, shortId, time } from '../format';
import type { Live } from '../live';
import { href } from '../route';
import type { BulkAnswer, DeadLetter, Page } from '../types';
import { Confirm, ErrorNote, MoreButton, PageHeading, Status, useLoad } from '../ui';

const filterNames = ['status', 'reason', 'queue', 'from', 'to'] as const;
type Action = 'replay' | 'purge';
/** A bulk call about to be confirmed: what it takes and how many letters that is (from a dry run). */
type Pending = { action: Action; selection: Record<string, unknown>; matched: number; scope: string };

/** Dead letters by status, reason, queue and time; inspect, then replay or purge one, some or all matching, after a confirmation. */
export function DeadLettersPage({ query, live }: { query: URLSearchParams; live: Live }) {
  const filters = Object.fromEntries(filterNames.map((name) => [name, query.get(name) ?? undefined])) as Record<
    (typeof filterNames)[number],
    string | undefined
  >;
  if (!query.has('status')) filters.status = 'open';
  const [cursor, setCursor] = useState<string>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [pending, setPending] = useState<Pending>();
  const [outcome, setOutcome] = useState<{ action: Action; answer: BulkAnswer }>();
  const [failure, setFailure] = useState<ApiError>();
  const key = `${query.toString()}|${cursor ?? ''}`;
  const page = useLoad(() => api<Page<DeadLetter>>('GET', '/admin/dead-letters', { query: { ...filters, limit: 50, cursor } }), key);
  const letters = page.data?.items ?? [];
  const arrived = live.deadLetters.filter((change) => change.status === 'open').length;

  const search = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => formText(form, name);
    setCursor(undefined);
    setSelected(new Set());
    location.hash = href('dead-letters', {
      status: text('status') ?? 'any',
      reason: text('reason'),
      queue: text('queue'),
      from: fromLocalInput(text('from')),
      to: fromLocalInput(text('to')),
    });
  };

  const filterSelection = () => {
    const { status, ...rest } = filters;
    return Object.fromEntries(Object.entries({ ...rest, status: status === 'any' ? undefined : status }).filter(([, value]) => value !== undefined));
  };

  /** Counts what a bulk call would take (a dry run), then asks for confirmation. */
  const prepare = async (action: Action, selection: Record<string, unknown>, scope: string) => {
    setFailure(undefined);
    setOutcome(undefined);
    try {
      const dryRun = await api<BulkAnswer>('POST', `/admin/dead-letters/${action}`, { body: { ...selection, dryRun: true } });
      setPending({ action, selection, matched: dryRun.matched, scope });
    } catch (error) {
      setFailure(error as ApiError);
    }
  };

  const run = async () => {
    if (!pending) return;
    const { action, selection } = pending;
    setPending(undefined);
    try {
      const answer = await api<BulkAnswer>('POST', `/admin/dead-letters/${action}`, { body: { ...selection, dryRun: false } });
      setOutcome({ action, answer });
      setSelected(new Set());
      page.reload();
    } catch (error) {
      setFailure(error as ApiError);
    }
  };

  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allSelected = letters.length > 0 && letters.every((letter) => selected.has(letter.id));

  return (
    <>
      <PageHeading title="Dead letters">
        <p class="hint">Messages that failed every try. Fix the cause, then replay them; purge what should never run.</p>
      </PageHeading>
      <form class="filters" onSubmit={search} aria-label="Filter dead letters">
        <label>
          Status
          <select name="status" defaultValue={filters.status}>
            <option value="open">open</option>
            <option value="replayed">replayed</option>
            <option value="any">any</option>
          </select>
        </label>
        <label>
          Reason
          <input name="reason" defaultValue={filters.reason} placeholder="retries_exhausted" spellcheck={false} />
        </label>
        <label>
          Queue
          <input name="queue" defaultValue={filters.queue} placeholder="stockroom.allocations" spellcheck={false} />
        </label>
        <label>
          From
          <input name="from" type="datetime-local" step={1} />
        </label>
        <label>
          Before
          <input name="to" type="datetime-local" step={1} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {arrived > 0 && (
        <p class="notice" role="status">
          {arrived} new dead letter{arrived === 1 ? '' : 's'} arrived since this page opened.{' '}
          <button type="button" class="link" onClick={page.reload}>
            Refresh
          </button>
        </p>
      )}
      <div class="toolbar" role="group" aria-label="Act on dead letters">
        <button type="button" disabled={selected.size === 0} onClick={() => void prepare('replay', { ids: [...selected] }, `${selected.size} selected`)}>
          Replay selected ({selected.size})
        </button>
        <button
          type="button"
          class="danger"
          disabled={selected.size === 0}
          onClick={() => void prepare('purge', { ids: [...selected] }, `${selected.size} selected`)}
        >
          Purge selected ({selected.size})
        </button>
        <button
          type="button"
          disabled={letters.length === 0}
          onClick={() => void prepare('replay', filterSelection(), 'every open letter matching the filter')}
        >
          Replay all matching
        </button>
        <button
          type="button"
          class="danger"
          disabled={letters.length === 0}
          onClick={() => void prepare('purge', filterSelection(), 'every letter matching the filter')}
        >
          Purge all matching
        </button>
      </div>
      <ErrorNote error={failure ?? page.error} />
      {outcome && <BulkOutcome action={outcome.action} answer={outcome.answer} />}
      <Confirm
        open={pending !== undefined}
        title={pending ? `${pending.action === 'replay' ? 'Replay' : 'Purge'} ${number(pending.matched)} dead letter${pending.matched === 1 ? '' : 's'}?` : ''}
        confirmLabel={pending?.action === 'replay' ? 'Replay' : 'Purge for good'}
        onConfirm={() => void run()}
        onCancel={() => setPending(undefined)}
      >
        {pending && (
          <p>
            {pending.scope}: {number(pending.matched)} letter{pending.matched === 1 ? '' : 's'} match
            {pending.matched > 500 ? ' (500 are taken per call; run it again for the rest)' : ''}.{' '}
            {pending.action === 'replay' ? 'Each goes back to its queue with fresh attempts.' : 'They are deleted and cannot be replayed afterwards.'}
          </p>
        )}
      </Confirm>
      {page.data && (
        <div class="table-wrap">
          <table aria-busy={page.loading}>
            <caption class="visually-hidden">Dead letters matching the filter, newest first</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select every letter on this page"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(letters.map((letter) => letter.id)))}
                  />
                </th>
                <th scope="col">Letter</th>
                <th scope="col">Queue</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
                <th scope="col">Status</th>
                <th scope="col">Arrived</th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            <tbody>
              {letters.map((letter) => (
                <LetterRow key={letter.id} letter={letter} selected={selected.has(letter.id)} onToggle={() => toggle(letter.id)} />
              ))}
            </tbody>
          </table>
          {letters.length === 0 && <p>No dead letter matches.</p>}
        </div>
      )}
      <MoreButton cursor={page.data?.nextCursor} onMore={setCursor} loading={page.loading} />
    </>
  );
}

function LetterRow({ letter, selected, onToggle }: { letter: DeadLetter; selected: boolean; onToggle: () => void }) {
  return (
    <>
      <tr>
        <td>
          <input type="checkbox" aria-label={`Select dead letter ${letter.id}`} checked={selected} onChange={onToggle} />
        </td>
        <td title={letter.id}>{shortId(letter.id)}</td>
        <td>{letter.queue}</td>
        <td>{letter.reason}</td>
        <td>{letter.attempts}</td>
        <td>
          <Status value={letter.status} />
        </td>
        <td title={time(letter.createdAt)}>{relative(letter.createdAt)}</td>
        <td>
          {letter.allocationId ? (
            <a href={href('jobs', letter.allocationId)} title={letter.allocationId}>
              {shortId(letter.allocationId)}
            </a>
          ) : (
            '–'
          )}
        </td>
      </tr>
      <tr class="detail">
        <td />
        <td colSpan={7}>
          <details>
            <summary>Errors and payload</summary>
            <dl class="pairs">
              <dt>First error</dt>
              <dd>
                <code>{letter.firstError ?? '–'}</code>
              </dd>
              <dt>Last error</dt>
              <dd>
                <code>{letter.lastError ?? '–'}</code>
              </dd>
              {letter.replayedAt && (
                <>
                  <dt>Replayed</dt>
                  <dd>{time(letter.replayedAt)}</dd>
                </>
              )}
            </dl>
            <pre class="payload">{JSON.stringify(letter.payload, null, 2)}</pre>
          </details>
        </td>
      </tr>
    </>
  );
}

function BulkOutcome({ action, answer }: { action: Action; answer: BulkAnswer }) {
  const failed = answer.items.filter((item) => item.outcome === 'failed');
  return (
    <section class="outcome" role="status" aria-labelledby="outcome-heading">
      <h2 id="outcome-heading">
        {action === 'replay' ? 'Replayed' : 'Purged'} {number(answer.done)} of {number(answer.matched)}
      </h2>
      {answer.remaining > 0 && <p>{number(answer.remaining)} still match; run it again for the rest.</p>}
      {failed.length > 0 && (
        <ul>
          {failed.map((item) => (
            <li key={item.id}>
              {shortId(item.id)}: {item.error?.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
