import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { formText, fromLocalInput, number, relative, shortId, time } from '../format';
import { href } from '../route';
import type { Page, Reservation } from '../types';
import { Confirm, ErrorNote, MoreButton, PageHeading, Status, useLoad } from '../ui';

const statuses = ['RESERVED', 'ALLOCATED', 'FULFILLED', 'RELEASED', 'EXPIRED'];
const filterNames = ['orderId', 'status', 'productId', 'warehouseId', 'createdTo', 'expiresTo'] as const;

/** Reservations by order, status, product, warehouse and age; extend or release the active ones. */
export function ReservationsPage({ query }: { query: URLSearchParams }) {
  const filters = Object.fromEntries(filterNames.map((name) => [name, query.get(name) ?? undefined])) as Record<
    (typeof filterNames)[number],
    string | undefined
  >;
  const [cursor, setCursor] = useState<string>();
  const key = `${query.toString()}|${cursor ?? ''}`;
  const page = useLoad(() => api<Page<Reservation>>('GET', '/inventory/reservations', { query: { ...filters, limit: 25, cursor } }), key);

  const search = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => formText(form, name);
    const olderThan = Number(text('olderThanMinutes') ?? 0);
    setCursor(undefined);
    location.hash = href('reservations', {
      orderId: text('orderId'),
      status: text('status'),
      productId: text('productId'),
      warehouseId: text('warehouseId'),
      createdTo: olderThan > 0 ? new Date(Date.now() - olderThan * 60_000).toISOString() : undefined,
      expiresTo: fromLocalInput(text('expiresTo')),
    });
  };

  return (
    <>
      <PageHeading title="Reservations">
        <p class="hint">Newest first. Extend or release an active reservation; each change goes through the same API as any caller's.</p>
      </PageHeading>
      <form class="filters" onSubmit={search} aria-label="Search reservations">
        <label>
          Order
          <input name="orderId" defaultValue={filters.orderId} placeholder="order-1001" spellcheck={false} />
        </label>
        <label>
          Status
          <select name="status" defaultValue={filters.status ?? ''}>
            <option value="">any</option>
            {statuses.map((status) => (
              <option key={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Product
          <input name="productId" defaultValue={filters.productId} spellcheck={false} />
        </label>
        <label>
          Warehouse
          <input name="warehouseId" defaultValue={filters.warehouseId} spellcheck={false} />
        </label>
        <label>
          Older than (minutes)
          <input name="olderThanMinutes" type="number" min={0} inputMode="numeric" />
        </label>
        <label>
          Expires before
          <input name="expiresTo" type="datetime-local" step={1} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={page.error} />
      {page.data && <ReservationTable items={page.data.items} caption="Reservations matching the search" onChanged={page.reload} />}
      <MoreButton cursor={page.data?.nextCursor} onMore={setCursor} loading={page.loading} />
    </>
  );
}

/** Reservations in a table; with `onChanged`, active ones get Extend and Release. */
export function ReservationTable({ items, caption, onChanged }: { items: Reservation[]; caption: string; onChanged?: () => void }) {
  if (items.length === 0) return <p>No reservation matches.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Reservation</th>
            <th scope="col">Order</th>
            <th scope="col">Status</th>
            <th scope="col">Lines</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            {onChanged && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {items.map((reservation) => (
            <tr key={reservation.reservationId}>
              <td title={reservation.reservationId}>{shortId(reservation.reservationId)}</td>
              <td>
                <a href={href('reservations', { orderId: reservation.orderId })}>{reservation.orderId}</a>
              </td>
              <td>
                <Status value={reservation.status} />
              </td>
              <td>
                {reservation.items.map((item) => (
                  <div key={`${item.productId}/${item.warehouseId}`}>
                    <a href={href('stock', item.productId)}>{item.productId}</a> × {number(item.quantity)} at {item.warehouseId}
                  </div>
                ))}
              </td>
              <td title={time(reservation.createdAt)}>{relative(reservation.createdAt)}</td>
              <td title={time(reservation.expiresAt)}>{reservation.status === 'RESERVED' ? relative(reservation.expiresAt) : '–'}</td>
              {onChanged && <td>{reservation.status === 'RESERVED' && <ReservationActions reservation={reservation} onChanged={onChanged} />}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ReservationActions({ reservation, onChanged }: { reservation: Reservation; onChanged: () => void }) {
  const [minutes, setMinutes] = useState(30);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  // The version listed: a change made meanwhile by someone else is refused (409) rather than overwritten.
  const version = { version: reservation.version };
  const act = async (call: () => Promise<unknown>, message: string) => {
    setError(undefined);
    try {
      await call();
      setDone(message);
      onChanged();
    } catch (reason) {
      setError(reason as ApiError);
    }
  };
  const extend = () =>
    act(() => api('POST', `/inventory/reservations/${reservation.reservationId}/extend`, { body: { minutes, ...version } }), `Extended by ${minutes} min`);
  const release = () => {
    setConfirming(false);
    // One key per reservation version: a double click, or a retry after a lost answer, releases once.
    const idempotencyKey = `console-release-${reservation.reservationId}-${reservation.version}`;
    return act(
      () =>
        api('POST', '/inventory/release', {
          body: { reservationId: reservation.reservationId, reason: 'released from the console', ...version },
          idempotencyKey,
        }),
      'Released',
    );
  };
  const label = `reservation ${reservation.reservationId} of order ${reservation.orderId}`;
  return (
    <div class="row-actions">
      <label>
        <span class="visually-hidden">Minutes to extend {label} by</span>
        <input type="number" min={1} value={minutes} onInput={(event) => setMinutes(Number(event.currentTarget.value))} class="narrow" />
      </label>
      <button type="button" onClick={() => void extend()} aria-label={`Extend ${label}`}>
        Extend
      </button>
      <button type="button" class="danger" onClick={() => setConfirming(true)} aria-label={`Release ${label}`}>
        Release
      </button>
      <Confirm
        open={confirming}
        title={`Release order ${reservation.orderId}'s reservation?`}
        confirmLabel="Release"
        onConfirm={() => void release()}
        onCancel={() => setConfirming(false)}
      >
        <p>Its units become available to other orders at once. This cannot be undone.</p>
      </Confirm>
      {done && <span role="status">{done}</span>}
      <ErrorNote error={error} />
    </div>
  );
}
