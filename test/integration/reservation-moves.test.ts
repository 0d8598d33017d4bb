import { startTestApp, type TestApp } from '../helpers/app';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced, lotsOf, receiveLots, seedCatalogue } from '../helpers/stock';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('reservation_moves');
  api = inventoryApi(t.app);
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'mv-a' }, { id: 'mv-b' }], products: ['mv-1', 'mv-2'] });
  await receiveLots(t.db.pool, [
    { productId: 'mv-1', warehouseId: 'mv-a', quantity: 4, receivedAt: new Date('2026-01-01T00:00:00Z') },
    { productId: 'mv-1', warehouseId: 'mv-b', quantity: 100, receivedAt: new Date('2026-02-01T00:00:00Z') },
    { productId: 'mv-2', warehouseId: 'mv-a', quantity: 100 },
  ]);
});
afterAll(async () => t.close());
afterEach(async () => expectBooksBalanced(t.db.pool));

type Lot = { lotId: string; quantity: number; reservedQuantity: number; movedQuantity: number };
type Detail = {
  reservationId: string;
  orderId: string;
  status: string;
  version: number;
  expiresAt: string;
  customerId: string | null;
  items: { productId: string; warehouseId: string; quantity: number; lots: Lot[] }[];
  history: { fromStatus: string | null; toStatus: string; reason: string; reference: string }[];
};

async function reserve(orderId: string, items: object[], extra: object = {}): Promise<Detail> {
  const response = await api.reserve({ orderId, items, ...extra });
  expect(response.statusCode).toBe(201);
  return (await api.get(response.json().reservationId)).json();
}

const transfer = (id: string, payload: object, headers: Record<string, string> = {}) =>
  api.call('POST', `/inventory/reservations/${id}/transfer`, payload, headers);

/** Units each reservation holds per lot (reserved, not allocated). */
const heldPerLot = (detail: Detail) => Object.fromEntries(detail.items.flatMap((item) => item.lots.map((lot) => [lot.lotId, lot.reservedQuantity])));

async function eventsOf(reservationId: string): Promise<{ event_type: string; routing_key: string; payload: Record<string, unknown> }[]> {
  const { rows } = await t.db.pool.query(`select event_type, routing_key, payload from outbox_events where aggregate_id = $1 order by id`, [reservationId]);
  return rows;
}

describe('POST /inventory/reservations/:id/transfer', () => {
  it('moves part of a reservation to a new reservation of another order: same lots, same expiry, history and an event on both sides', async () => {
    // 6 of mv-1: 4 from the older lot at mv-a, 2 from mv-b; and 5 of mv-2
    const source = await reserve(
      'mv-order-1',
      [
        { productId: 'mv-1', quantity: 6 },
        { productId: 'mv-2', quantity: 5 },
      ],
      { customerId: 'cust-1' },
    );
    const lotsBefore = [...(await lotsOf(t.db.pool, 'mv-1')), ...(await lotsOf(t.db.pool, 'mv-2'))];
    const response = await transfer(source.reservationId, { orderId: 'mv-order-2', items: [{ productId: 'mv-1', quantity: 5 }], reason: 'split shipment' });
    expect(response.statusCode).toBe(201);
    const { from, to } = response.json<{ from: Detail; to: Detail }>();

    // the units stay in their lots and stay reserved
    expect([...(await lotsOf(t.db.pool, 'mv-1')), ...(await lotsOf(t.db.pool, 'mv-2'))]).toEqual(lotsBefore);
    expect(from).toMatchObject({ reservationId: source.reservationId, orderId: 'mv-order-1', status: 'RESERVED', version: source.version + 1 });
    expect(to).toMatchObject({ orderId: 'mv-order-2', status: 'RESERVED', customerId: 'cust-1', expiresAt: source.expiresAt });
    expect(to.reservationId).not.toBe(from.reservationId);
    const [olderLot, newerLot] = source.items.filter((item) => item.productId === 'mv-1').map((item) => item.lots[0]!.lotId);
    // lines in the order they were taken: all 4 of the older lot, then 1 of the newer
    expect(heldPerLot(to)).toEqual({ [olderLot!]: 4, [newerLot!]: 1 });
    expect(heldPerLot(from)).toEqual({ [olderLot!]: 0, [newerLot!]: 1, [source.items[2]!.lots[0]!.lotId]: 5 });
    expect(from.items[0]!.lots[0]).toMatchObject({ quantity: 4, reservedQuantity: 0, movedQuantity: 4 });

    expect(from.history.at(-1)).toEqual(
      expect.objectContaining({
        fromStatus: 'RESERVED',
        toStatus: 'RESERVED',
        reason: '5 units moved to order mv-order-2: split shipment',
        reference: to.reservationId,
      }),
    );
    expect(to.history).toEqual([
      expect.objectContaining({
        fromStatus: null,
        toStatus: 'RESERVED',
        reason: '5 units moved from order mv-order-1: split shipment',
        reference: from.reservationId,
      }),
    ]);

    const out = (await eventsOf(from.reservationId)).at(-1)!;
    expect(out).toMatchObject({
      event_type: 'ReservationTransferredOut',
      routing_key: 'inventory.reservation_transferred_out',
      payload: {
        reservationId: from.reservationId,
        orderId: 'mv-order-1',
        toReservationId: to.reservationId,
        toOrderId: 'mv-order-2',
        status: 'RESERVED',
        items: [
          { productId: 'mv-1', warehouseId: 'mv-a', quantity: 4 },
          { productId: 'mv-1', warehouseId: 'mv-b', quantity: 1 },
        ],
        reason: 'split shipment',
        transferredBy: 'checkout',
      },
    });
    expect(await eventsOf(to.reservationId)).toEqual([
      expect.objectContaining({
        event_type: 'ReservationTransferredIn',
        routing_key: 'inventory.reservation_transferred_in',
        payload: expect.objectContaining({
          fromReservationId: from.reservationId,
          fromOrderId: 'mv-order-1',
          orderId: 'mv-order-2',
          expiresAt: source.expiresAt,
        }),
      }),
    ]);

    // both live on: the new one is allocated and shipped, the old one released
    expect((await api.allocate({ reservationId: to.reservationId })).json().status).toBe('ALLOCATED');
    expect((await api.ship({ reservationId: to.reservationId })).json().status).toBe('FULFILLED');
    const released = await api.release({ reservationId: from.reservationId });
    expect(released.json().status).toBe('RELEASED');
    expect((await eventsOf(from.reservationId)).at(-1)!.payload.items).toEqual([
      { productId: 'mv-1', warehouseId: 'mv-b', quantity: 1 },
      { productId: 'mv-2', warehouseId: 'mv-a', quantity: 5 },
    ]);
    expect((await lotsOf(t.db.pool, 'mv-1')).map((lot) => [lot.quantity, lot.reserved])).toEqual([
      [0, 0],
      [99, 0],
    ]);
  });

  it('moves everything without items, to a hold of its own length when timeoutMinutes is given; the source is RELEASED with nothing left', async () => {
    const source = await reserve('mv-order-3', [{ productId: 'mv-2', quantity: 3 }]);
    const before = Date.now();
    const response = await transfer(source.reservationId, { orderId: 'mv-order-4', timeoutMinutes: 90, customerId: 'cust-4' });
    expect(response.statusCode).toBe(201);
    const { from, to } = response.json<{ from: Detail; to: Detail }>();
    expect(from.status).toBe('RELEASED');
    expect(from.history.at(-1)).toMatchObject({ fromStatus: 'RESERVED', toStatus: 'RELEASED', reason: '3 units moved to order mv-order-4' });
    expect(to).toMatchObject({ status: 'RESERVED', customerId: 'cust-4', items: [expect.objectContaining({ productId: 'mv-2', quantity: 3 })] });
    expect(new Date(to.expiresAt).getTime()).toBeGreaterThanOrEqual(before + 90 * 60_000 - 1000);
    expect((await eventsOf(from.reservationId)).at(-1)!.payload).toMatchObject({ type: 'ReservationTransferredOut', status: 'RELEASED' });
    // a RELEASED source moves nothing more and releases nothing twice
    expect((await transfer(from.reservationId, { orderId: 'mv-order-5' })).json().error.code).toBe('INVALID_TRANSITION');
    expect((await api.release({ reservationId: to.reservationId })).statusCode).toBe(200);
  });

  it('is idempotent: the same Idempotency-Key answers the same move again, another body under it is 422', async () => {
    const source = await reserve('mv-order-6', [{ productId: 'mv-2', quantity: 4 }]);
    const headers = { 'idempotency-key': 'move-mv-order-6' };
    const body = { orderId: 'mv-order-7', items: [{ productId: 'mv-2', quantity: 1 }] };
    const first = await transfer(source.reservationId, body, headers);
    const again = await transfer(source.reservationId, body, headers);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const { rows } = await t.db.pool.query(`select count(*)::int as n from reservations where order_id = 'mv-order-7'`);
    expect(rows[0].n).toBe(1);
    const other = await transfer(source.reservationId, { ...body, orderId: 'mv-order-8' }, headers);
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_MISMATCH');
    await api.release({ reservationId: source.reservationId });
    await api.release({ reservationId: first.json().to.reservationId });
  });

  describe('refuses, changing nothing', () => {
    let source: Detail;
    beforeAll(async () => {
      source = await reserve('mv-order-9', [{ productId: 'mv-2', quantity: 2 }]);
    });

    const unchanged = async () => {
      const now = (await api.get(source.reservationId)).json<Detail>();
      expect(now.version).toBe(source.version);
      const { rows } = await t.db.pool.query(`select count(*)::int as n from reservations where order_id = 'mv-order-10'`);
      expect(rows[0].n).toBe(0);
    };

    it.each([
      ['more than the reservation holds', { orderId: 'mv-order-10', items: [{ productId: 'mv-2', quantity: 3 }] }, 409, 'CONFLICT'],
      ['a product it does not hold', { orderId: 'mv-order-10', items: [{ productId: 'mv-1', quantity: 1 }] }, 409, 'CONFLICT'],
      ['units at a warehouse it holds none at', { orderId: 'mv-order-10', items: [{ productId: 'mv-2', quantity: 1, warehouseId: 'mv-b' }] }, 409, 'CONFLICT'],
      ['a stale version', { orderId: 'mv-order-10', version: 99 }, 409, 'VERSION_CONFLICT'],
      ['a hold longer than allowed', { orderId: 'mv-order-10', timeoutMinutes: 100_000 }, 400, 'VALIDATION_FAILED'],
      ['no order', { items: [{ productId: 'mv-2', quantity: 1 }] }, 400, 'VALIDATION_FAILED'],
      ['an unknown field', { orderId: 'mv-order-10', quantity: 1 }, 400, 'VALIDATION_FAILED'],
    ])('%s', async (_name, body, status, code) => {
      const response = await transfer(source.reservationId, body);
      expect(response.statusCode).toBe(status);
      expect(response.json().error.code).toBe(code);
      await unchanged();
    });

    it('names each item beyond what is held', async () => {
      const response = await transfer(source.reservationId, {
        orderId: 'mv-order-10',
        items: [
          { productId: 'mv-2', quantity: 2 },
          { productId: 'mv-2', quantity: 1 },
        ],
      });
      expect(response.json().error.details.shortfall).toEqual([{ productId: 'mv-2', requested: 1, held: 0 }]);
      await unchanged();
    });

    it('an unknown reservation: 404', async () => {
      const response = await transfer('0190f5e2-7c1a-7b3e-9d4f-2a6c8e1b3d5f', { orderId: 'mv-order-10' });
      expect(response.statusCode).toBe(404);
    });

    it('a hold that has ended, though the sweeper has not run: 409 INVALID_TRANSITION', async () => {
      await t.db.pool.query(`update reservations set expires_at = now() - interval '1 second' where id = $1`, [source.reservationId]);
      const response = await transfer(source.reservationId, { orderId: 'mv-order-10' });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'EXPIRED' } });
      const { rows } = await t.db.pool.query(`select count(*)::int as n from reservations where order_id = 'mv-order-10'`);
      expect(rows[0].n).toBe(0);
    });

    it('an allocated reservation: 409 INVALID_TRANSITION', async () => {
      const allocated = await reserve('mv-order-11', [{ productId: 'mv-2', quantity: 1 }]);
      await api.allocate({ reservationId: allocated.reservationId });
      const response = await transfer(allocated.reservationId, { orderId: 'mv-order-10' });
      expect(response.json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'ALLOCATED' } });
    });
  });

  it('two moves of the same units at once: one succeeds, the other finds them gone', async () => {
    const source = await reserve('mv-order-12', [{ productId: 'mv-2', quantity: 2 }]);
    const results = await Promise.all([
      transfer(source.reservationId, { orderId: 'mv-order-13', items: [{ productId: 'mv-2', quantity: 2 }] }),
      transfer(source.reservationId, { orderId: 'mv-order-14', items: [{ productId: 'mv-2', quantity: 2 }] }),
    ]);
    expect(results.map((result) => result.statusCode).sort()).toEqual([201, 409]);
    const { rows } = await t.db.pool.query(`select count(*)::int as n from reservations where order_id in ('mv-order-13', 'mv-order-14')`);
    expect(rows[0].n).toBe(1);
  });
});
