import { queryRows } from '../../src/db/client';
import { effectiveStatusSql } from '../../src/db/reservation-store';
import { sql, toQuery } from '../../src/db/sql';
import { effectiveStatus, reservationStatuses } from '../../src/domain/reservation';
import { expireReservations } from '../../src/inventory/reservations/expire';
import { startTestApp, type TestApp } from '../helpers/app';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced, receiveLots, seedCatalogue } from '../helpers/stock';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('lookups');
  api = inventoryApi(t.app);
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }], products: ['lk-1', 'lk-2', 'lk-3'] });
  await receiveLots(t.db.pool, [
    { productId: 'lk-1', warehouseId: 'wh-a', quantity: 100 },
    { productId: 'lk-2', warehouseId: 'wh-b', quantity: 100 },
    { productId: 'lk-3', warehouseId: 'wh-a', quantity: 1 },
  ]);
});
afterAll(async () => t.close());
afterEach(async () => expectBooksBalanced(t.db.pool));

type Summary = { reservationId: string; orderId: string; status: string; items: { productId: string; warehouseId: string; lots: unknown[] }[] };
type Page<T> = { items: T[]; nextCursor: string | null };

async function reserve(orderId: string, items: object[], extra: object = {}): Promise<string> {
  const response = await api.reserve({ orderId, items, ...extra });
  expect(response.statusCode).toBe(201);
  return response.json().reservationId;
}

async function find(query: string): Promise<Page<Summary>> {
  const response = await api.call('GET', `/inventory/reservations${query}`);
  expect(response.statusCode).toBe(200);
  return response.json();
}

/** Pushes a reservation's hold into the past, as if its time ran out and the sweeper has not run yet. */
async function lapse(reservationId: string): Promise<void> {
  await t.db.pool.query(`update reservations set expires_at = now() - interval '1 second' where id = $1`, [reservationId]);
}

describe('GET /inventory/reservations', () => {
  let first: string;
  let second: string;
  let third: string;
  let allocated: string;
  let lapsed: string;

  beforeAll(async () => {
    first = await reserve('lk-order-1', [{ productId: 'lk-1', quantity: 1 }]);
    second = await reserve('lk-order-1', [{ productId: 'lk-2', quantity: 2 }]);
    third = await reserve('lk-order-2', [
      { productId: 'lk-1', quantity: 3 },
      { productId: 'lk-2', quantity: 3 },
    ]);
    allocated = await reserve('lk-order-3', [{ productId: 'lk-2', quantity: 4 }]);
    expect((await api.allocate({ reservationId: allocated })).statusCode).toBe(200);
    lapsed = await reserve('lk-order-4', [{ productId: 'lk-1', quantity: 5 }]);
    await lapse(lapsed);
  });

  it('finds the reservations of an order, newest first, with their lots and without history', async () => {
    const page = await find('?orderId=lk-order-1');
    expect(page.items.map((item) => item.reservationId)).toEqual([second, first]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[0]).toMatchObject({ orderId: 'lk-order-1', status: 'RESERVED', items: [{ productId: 'lk-2', warehouseId: 'wh-b', quantity: 2 }] });
    expect(page.items[0]!.items[0]!.lots).toHaveLength(1);
    expect(page.items[0]).not.toHaveProperty('history');
    expect((await find('?orderId=no-such-order')).items).toEqual([]);
  });

  it('filters by status as the reservation reads now: a lapsed hold is EXPIRED, not RESERVED', async () => {
    const ids = async (query: string) => (await find(query)).items.map((item) => item.reservationId);
    expect(await ids('?status=RESERVED')).toEqual([third, second, first]);
    expect(await ids('?status=ALLOCATED')).toEqual([allocated]);
    expect(await ids('?status=EXPIRED')).toEqual([lapsed]);
    expect(await ids('?status=EXPIRED,ALLOCATED')).toEqual([lapsed, allocated]);
    expect((await find('?orderId=lk-order-4')).items[0]).toMatchObject({ status: 'EXPIRED' });
  });

  it('filters by product and by warehouse through the lines', async () => {
    const ids = async (query: string) => (await find(query)).items.map((item) => item.reservationId);
    expect(await ids('?productId=lk-2')).toEqual([allocated, third, second]);
    expect(await ids('?warehouseId=wh-a')).toEqual([lapsed, third, first]);
    expect(await ids('?productId=lk-2&warehouseId=wh-a')).toEqual([third]);
    expect(await ids('?productId=lk-1&status=RESERVED')).toEqual([third, first]);
  });

  it('filters by creation and expiry time, from included and to excluded', async () => {
    const [row] = await queryRows<{ createdAt: Date }>(t.db.pool, 'select created_at as "createdAt" from reservations where id = $1', [third]);
    const at = row!.createdAt.toISOString();
    const ids = async (query: string) => (await find(query)).items.map((item) => item.reservationId);
    expect(await ids(`?createdFrom=${at}&createdTo=${at}`)).toEqual([]);
    expect(await ids(`?createdFrom=${at}&orderId=lk-order-2`)).toEqual([third]);
    expect(await ids(`?createdTo=${at}`)).toEqual([second, first]);
    const now = new Date().toISOString();
    expect(await ids(`?expiresTo=${now}`)).toEqual([lapsed]);
    expect(await ids(`?expiresFrom=${now}&productId=lk-1`)).toEqual([third, first]);
  });

  it('pages by cursor without repeating or skipping a reservation, even when new ones arrive between pages', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page<Summary> = await find(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((item) => item.reservationId));
      cursor = page.nextCursor;
      pages += 1;
      if (pages === 1) await reserve('lk-order-late', [{ productId: 'lk-1', quantity: 1 }]);
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([lapsed, allocated, third, second, first]);
  });

  it('refuses bad filters with 400', async () => {
    for (const query of [
      '?status=LOST',
      '?priority=urgent',
      '?status=',
      '?limit=0',
      '?limit=501',
      '?cursor=not-a-uuid',
      '?createdFrom=2025-02-01T00:00:00Z&createdTo=2025-01-01T00:00:00Z',
      '?expiresFrom=yesterday',
      '?tenant=someone',
    ]) {
      const response = await api.call('GET', `/inventory/reservations${query}`);
      expect({ query, status: response.statusCode, code: response.json().error.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});

describe('read-time expiry', () => {
  it('a reservation past expiresAt reads as EXPIRED at once, and the next request for its stock expires it in line', async () => {
    const id = await reserve('lk-expiry-1', [{ productId: 'lk-3', quantity: 1 }]);
    await lapse(id);
    const read = (await api.get(id)).json<{ status: string; version: number; history: { toStatus: string }[] }>();
    expect(read).toMatchObject({ status: 'EXPIRED' });
    expect(read.history.map((change: { toStatus: string }) => change.toStatus)).toEqual(['RESERVED']);
    expect((await api.extend(id, { minutes: 5 })).json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'EXPIRED' } });

    // no sweeper ran: the reserve gives the lapsed hold's stock back in its own transaction and takes it
    expect((await api.reserve({ orderId: 'lk-expiry-2', items: [{ productId: 'lk-3', quantity: 1 }] })).statusCode).toBe(201);
    const expired = (await api.get(id)).json();
    expect(expired).toMatchObject({ status: 'EXPIRED', version: read.version + 1 });
    expect(expired.history.map((change: { toStatus: string }) => change.toStatus)).toEqual(['RESERVED', 'EXPIRED']);
    expect(await expireReservations(t.db.pool, { now: new Date(), batchSize: 10 })).toBe(0);
  });

  it('the SQL mirror reads every status as effectiveStatus does, at the expiry boundary too', async () => {
    const now = new Date('2030-06-01T12:00:00.000Z');
    const cases = reservationStatuses.flatMap((status) => [-1, 0, 1].map((offsetMs) => ({ status, expiresAt: new Date(now.getTime() + offsetMs) })));
    const { text, values } = toQuery(sql`select ${effectiveStatusSql(now)} as status
         from unnest(${cases.map((c) => c.status)}::text[], ${cases.map((c) => c.expiresAt)}::timestamptz[]) with ordinality as r(status, expires_at, n)
        order by n`);
    const rows = await queryRows<{ status: string }>(t.db.pool, text, values);
    expect(rows.map((row) => row.status)).toEqual(cases.map((c) => effectiveStatus(c, now)));
    expect(cases.filter((c) => effectiveStatus(c, now) !== c.status)).toHaveLength(2);
  });
});

describe('GET /backorders', () => {
  type Backorder = {
    id: string;
    productId: string;
    warehouseId: string | null;
    status: string;
    priority: string;
    referenceId: string;
    reservationId: string | null;
  };
  const orders: Record<string, Backorder> = {};

  beforeAll(async () => {
    await seedCatalogue(t.db.pool, { products: ['lk-bo-1', 'lk-bo-2'] });
    const backorder = async (orderId: string, productId: string, priority: string, warehouseId?: string) => {
      const response = await api.reserve({
        orderId,
        items: [{ productId, quantity: 2, ...(warehouseId ? { warehouseId } : {}) }],
        priority,
        allowBackorder: true,
      });
      expect(response.statusCode).toBe(202);
    };
    await backorder('lk-bo-order-1', 'lk-bo-1', 'low');
    await backorder('lk-bo-order-2', 'lk-bo-1', 'high', 'wh-b');
    await backorder('lk-bo-order-3', 'lk-bo-2', 'high');
    await backorder('lk-bo-order-4', 'lk-bo-2', 'critical', 'wh-a');
    const all = (await api.call('GET', '/backorders')).json().items as Backorder[];
    for (const row of all) orders[row.referenceId] = row;
    await api.call('DELETE', `/backorders/${orders['lk-bo-order-3']!.id}`);
  });

  const referencesOf = async (query: string) => {
    const response = await api.call('GET', `/backorders${query}`);
    expect(response.statusCode).toBe(200);
    return (response.json().items as Backorder[]).map((row) => row.referenceId);
  };

  it('lists in the order fills serve them: highest priority, then oldest', async () => {
    expect(await referencesOf('')).toEqual(['lk-bo-order-4', 'lk-bo-order-2', 'lk-bo-order-3', 'lk-bo-order-1']);
  });

  it('filters by product, warehouse, status, priority, order and creation time', async () => {
    expect(await referencesOf('?productId=lk-bo-1')).toEqual(['lk-bo-order-2', 'lk-bo-order-1']);
    expect(await referencesOf('?warehouseId=wh-b')).toEqual(['lk-bo-order-2']);
    expect(await referencesOf('?status=CANCELLED')).toEqual(['lk-bo-order-3']);
    expect(await referencesOf('?status=OPEN&productId=lk-bo-2')).toEqual(['lk-bo-order-4']);
    expect(await referencesOf('?status=OPEN,CANCELLED&productId=lk-bo-2')).toEqual(['lk-bo-order-4', 'lk-bo-order-3']);
    expect(await referencesOf('?priority=high')).toEqual(['lk-bo-order-2', 'lk-bo-order-3']);
    expect(await referencesOf('?priority=low,critical&status=OPEN')).toEqual(['lk-bo-order-4', 'lk-bo-order-1']);
    expect(await referencesOf('?orderId=lk-bo-order-2')).toEqual(['lk-bo-order-2']);
    expect(await referencesOf('?referenceId=lk-bo-order-2')).toEqual(['lk-bo-order-2']);
    const [row] = await queryRows<{ createdAt: Date }>(t.db.pool, 'select created_at as "createdAt" from backorder_items where reference_id = $1', [
      'lk-bo-order-3',
    ]);
    expect(await referencesOf(`?createdFrom=${row!.createdAt.toISOString()}`)).toEqual(['lk-bo-order-4', 'lk-bo-order-3']);
    expect(await referencesOf(`?createdTo=${row!.createdAt.toISOString()}`)).toEqual(['lk-bo-order-2', 'lk-bo-order-1']);
  });

  it('pages by cursor across priorities, and by offset as before', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await api.call('GET', `/backorders?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      const page = response.json<Page<Backorder> & { limit: number; offset: number }>();
      expect(page).toMatchObject({ limit: 1, offset: 0 });
      seen.push(...page.items.map((row) => row.referenceId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(['lk-bo-order-4', 'lk-bo-order-2', 'lk-bo-order-3', 'lk-bo-order-1']);
    const byOffset = (await api.call('GET', '/backorders?limit=2&offset=1')).json();
    expect(byOffset).toMatchObject({ limit: 2, offset: 1 });
    expect(byOffset.items.map((row: Backorder) => row.referenceId)).toEqual(['lk-bo-order-2', 'lk-bo-order-3']);
  });

  it('refuses bad filters with 400', async () => {
    const cursor = orders['lk-bo-order-1']!.id;
    for (const query of [
      `?cursor=${cursor}&offset=1`,
      '?orderId=a&referenceId=b',
      '?status=LOST',
      '?warehouseId=bad id',
      '?createdFrom=2025-02-01T00:00:00Z&createdTo=2025-01-01T00:00:00Z',
    ]) {
      const response = await api.call('GET', `/backorders${query}`);
      expect({ query, status: response.statusCode }).toEqual({ query, status: 400 });
    }
  });
});
