import { useState } from 'preact/hooks';
import { api } from '../api';
import { formText, fromLocalInput, number, relative, shortId, time } from '../format';
import type { Live } from '../live';
import { href } from '../route';
import type { AllocationView, Page } from '../types';
import { ErrorNote, MoreButton, PageHeading, Status, useLoad } from '../ui';

const statuses = ['queued', 'processing', 'succeeded', 'partial', 'failed', 'dead_lettered'];
const priorities = ['critical', 'high', 'medium', 'low'];
const filterNames = ['id', 'referenceId', 'status', 'priority', 'from', 'to'] as const;

/** Search jobs by id, reference, status, priority and acceptance time; the filters live in the page's address. */
export function JobsPage({ query, live }: { query: URLSearchParams; live: Live }) {
  const filters = Object.fromEntries(filterNames.map((name) => [name, query.get(name) ?? undefined]));
  const [cursor, setCursor] = useState<string>();
  const key = `${query.toString()}|${cursor ?? ''}`;
  const page = useLoad(() => api<Page<AllocationView>>('GET', '/allocations', { query: { ...filters, limit: 25, cursor } }), key);

  const search = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => formText(form, name);
    setCursor(undefined);
    location.hash = href('jobs', {
      id: text('id'),
      referenceId: text('referenceId'),
      status: text('status'),
      priority: text('priority'),
      from: fromLocalInput(text('from')),
      to: fromLocalInput(text('to')),
    });
  };

  const fresh = live.jobs.length;
  return (
    <>
      <PageHeading title="Jobs">
        <p class="hint">Allocation jobs, newest first. All filters given apply.</p>
      </PageHeading>
      <form class="filters" onSubmit={search} aria-label="Search jobs">
        <label>
          Job id
          <input name="id" defaultValue={filters.id} placeholder="UUID" spellcheck={false} />
        </label>
        <label>
          Reference
          <input name="referenceId" defaultValue={filters.referenceId} placeholder="order-1001" spellcheck={false} />
        </label>
        <label>
          Status
          <select name="status" defaultValue={filters.status ?? ''}>
            <option value="">any</option>
            {statuses.map((status) => (
              <option key={status} value={status}>
                {status.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select name="priority" defaultValue={filters.priority ?? ''}>
            <option value="">any</option>
            {priorities.map((priority) => (
              <option key={priority}>{priority}</option>
            ))}
          </select>
        </label>
        <label>
          Accepted from
          <input name="from" type="datetime-local" step={1} />
        </label>
        <label>
          Accepted before
          <input name="to" type="datetime-local" step={1} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={page.error} />
      <p class="hint" aria-live="polite">
        {fresh > 0 ? `${fresh} job changes arrived since this page opened. ` : ''}
        <button type="button" class="link" onClick={page.reload}>
          Refresh
        </button>
      </p>
      {page.data && (
        <div class="table-wrap">
          <table aria-busy={page.loading}>
            <caption class="visually-hidden">Jobs matching the search</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Reference</th>
                <th scope="col">Mode</th>
                <th scope="col">Priority</th>
                <th scope="col">Status</th>
                <th scope="col">Allocated</th>
                <th scope="col">Attempts</th>
                <th scope="col">Accepted</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((job) => (
                <tr key={job.allocationId}>
                  <td>
                    <a href={href('jobs', job.allocationId)} title={job.allocationId}>
                      {shortId(job.allocationId)}
                    </a>
                  </td>
                  <td>{job.referenceId}</td>
                  <td>{job.mode}</td>
                  <td>{job.priority}</td>
                  <td>
                    <Status value={job.status} />
                  </td>
                  <td>{job.result ? `${number(job.result.totalAllocated)} of ${number(job.result.totalRequested)}` : '–'}</td>
                  <td>{job.attempts}</td>
                  <td title={time(job.createdAt)}>{relative(job.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.data.items.length === 0 && <p>No job matches.</p>}
        </div>
      )}
      <MoreButton cursor={page.data?.nextCursor} onMore={setCursor} loading={page.loading} />
    </>
  );
}

/** One job: its ids, request, attempts and result lines. */
export function JobPage({ id }: { id: string }) {
  const job = useLoad(() => api<AllocationView>('GET', `/allocations/${encodeURIComponent(id)}`), id);
  const view = job.data;
  return (
    <>
      <PageHeading title={`Job ${shortId(id)}`}>
        <p>
          <a href={href('jobs')}>All jobs</a>
        </p>
      </PageHeading>
      <ErrorNote error={job.error} />
      {view && (
        <>
          <p>
            <Status value={view.status} /> {view.mode} · {view.priority} priority · {view.attempts} attempt{view.attempts === 1 ? '' : 's'}{' '}
            <button type="button" class="link" onClick={job.reload}>
              Refresh
            </button>
          </p>
          {view.lastError && (
            <p class="error">
              Last error: <code>{view.lastError}</code>
            </p>
          )}
          {view.status === 'dead_lettered' && (
            <p>
              This job is a dead letter: <a href={href('dead-letters', { status: 'open' })}>replay it from the dead letters</a>.
            </p>
          )}
          <section aria-labelledby="ids-heading">
            <h2 id="ids-heading">Ids</h2>
            <dl class="pairs">
              <dt>Job</dt>
              <dd>
                <code>{view.allocationId}</code>
              </dd>
              <dt>Reference</dt>
              <dd>
                {view.referenceType} <code>{view.referenceId}</code> (<a href={href('jobs', { referenceId: view.referenceId })}>its jobs</a>)
              </dd>
              <dt>Idempotency-Key</dt>
              <dd>
                <code>{view.idempotencyKey}</code>
              </dd>
              <dt>Request id</dt>
              <dd>{view.requestId ? <code>{view.requestId}</code> : '–'}</dd>
              <dt>Reservation</dt>
              <dd>
                {view.result?.reservationId ? (
                  <a href={href('reservations', { orderId: view.referenceId })}>
                    <code>{view.result.reservationId}</code>
                  </a>
                ) : (
                  '–'
                )}
              </dd>
              <dt>Accepted</dt>
              <dd>{time(view.createdAt)}</dd>
              <dt>Started</dt>
              <dd>{time(view.startedAt)}</dd>
              <dt>Finished</dt>
              <dd>{view.result ? `${time(view.result.completedAt)} (${number(view.result.executionTimeMs)} ms to serve)` : '–'}</dd>
              <dt>Deadline</dt>
              <dd>{time(view.deadlineAt)}</dd>
            </dl>
          </section>
          <section aria-labelledby="request-heading">
            <h2 id="request-heading">Request</h2>
            <p>
              Strategy {view.request.strategy ?? 'fifo'}, {view.request.allowPartial ? 'partial allowed' : 'all or nothing'},{' '}
              {view.request.allowBackorder ? 'backorders allowed' : 'no backorders'}.
            </p>
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Requested lines</caption>
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col">Warehouse</th>
                    <th scope="col">Quantity</th>
                  </tr>
                </thead>
                <tbody>
                  {view.request.items.map((item, index) => (
                    <tr key={index}>
                      <td>
                        <a href={href('stock', item.productId)}>{item.productId}</a>
                      </td>
                      <td>{item.warehouseId ?? 'any'}</td>
                      <td>{number(item.quantity)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          {view.result && (
            <section aria-labelledby="result-heading">
              <h2 id="result-heading">
                Result: {number(view.result.totalAllocated)} of {number(view.result.totalRequested)}
              </h2>
              {view.result.allocatedItems.length > 0 && (
                <div class="table-wrap">
                  <table>
                    <caption>Lots taken</caption>
                    <thead>
                      <tr>
                        <th scope="col">Product</th>
                        <th scope="col">Warehouse</th>
                        <th scope="col">Lot</th>
                        <th scope="col">Quantity</th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.result.allocatedItems.map((item) => (
                        <tr key={item.lotId}>
                          <td>{item.productId}</td>
                          <td>{item.warehouseId}</td>
                          <td title={item.lotId}>{item.lotNumber ?? shortId(item.lotId)}</td>
                          <td>{number(item.quantity)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              {view.result.failedItems.length > 0 && (
                <div class="table-wrap">
                  <table>
                    <caption>Lines not served</caption>
                    <thead>
                      <tr>
                        <th scope="col">Product</th>
                        <th scope="col">Requested</th>
                        <th scope="col">Available</th>
                        <th scope="col">Reason</th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.result.failedItems.map((item, index) => (
                        <tr key={index}>
                          <td>{item.productId}</td>
                          <td>{number(item.requestedQuantity)}</td>
                          <td>{number(item.availableQuantity)}</td>
                          <td>{item.errorMessage}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          )}
        </>
      )}
    </>
  );
}
