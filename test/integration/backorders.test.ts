import { withTransaction } from '../../src/db/client';
import { fillBackorders } from '../../src/inventory/backorders/backorders';
import { expireReservations } from '../../src/inventory/reservations/expire';
import { startTestApp, type TestApp } from '../helpers/app';
import { adjust, admin } from '../helpers/inventory';
import { inventoryApi } from '../helpers/inventory-api';
import { ledgerDifferences, receiveLots, reservationBookDifferences, seedCatalogue, totalsOf } from '../helpers/stock';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('backorders');
  api = inventoryApi(t.app);
  await seedCatalogue(t.db.pool, { warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }] });
});
afterAll(async () => t.close());

afterEach(async () => {
  expect(await ledgerDifferences(t.db.pool)).toEqual([]);
  expect(await reservationBookDifferences(t.db.pool)).toEqual([]);
});

let counter = 0;
async function product(quantity: number, warehouseId = 'wh-a'): Promise<string> {
  counter += 1;
  const id = `bp-${counter}`;
  await seedCatalogue(t.db.pool, { products: [id] });
  if (quantity > 0) await receiveLots(t.db.pool, [{ productId: id, warehouseId, quantity }]);
  return id;
}

/** Backorders `quantity` units of a product that has none available, at the given priority; returns the order id. */
async function backorder(productId: string, quantity: number, priority: string, extra: Record<string, unknown> = {}): Promise<string> {
  counter += 1;
  const orderId = `bo-ord-${counter}`;
  const response = await api.reserve({ orderId, items: [{ productId, quantity }], priority, allowBackorder: true, ...extra });
  expect([201, 202]).toContain(response.statusCode);
  return orderId;
}

type BackorderBody = { referenceId: string; status: string; fulfilledQuantity: number; quantity: number; reservationId: string | null; priority: string };
async function backordersOf(productId: string): Promise<BackorderBody[]> {
  const response = await api.call('GET', `/backorders?productId=${productId}`);
  expect(response.statusCode).toBe(200);
  return response.json().items;
}

describe('backorder fills', () => {
  it('a later receipt fills backorders highest priority first, then oldest, the last one in part', async () => {
    const productId = await product(0);
    const lowOld = await backorder(productId, 4, 'low');
    const highOld = await backorder(productId, 3, 'high');
    const highNew = await backorder(productId, 3, 'high');
    const critical = await backorder(productId, 2, 'critical');

    const receipt = await adjust(t, [{ productId, warehouseId: 'wh-a', quantity: 7, type: 'RECEIPT', reason: 'delivery' }]);
    expect(receipt.statusCode).toBe(200);

    const byOrder = new Map((await backordersOf(productId)).map((row) => [row.referenceId, row]));
    expect(byOrder.get(critical)).toMatchObject({ status: 'FULFILLED', fulfilledQuantity: 2 });
    expect(byOrder.get(highOld)).toMatchObject({ status: 'FULFILLED', fulfilledQuantity: 3 });
    expect(byOrder.get(highNew)).toMatchObject({ status: 'OPEN', fulfilledQuantity: 2 });
    expect(byOrder.get(lowOld)).toMatchObject({ status: 'OPEN', fulfilledQuantity: 0 });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 7, reserved: 7, allocated: 0 });

    // the fill made a RESERVED reservation for the order, with its history
    const reservation = (await api.get(byOrder.get(critical)!.reservationId!)).json();
    expect(reservation).toMatchObject({ orderId: critical, status: 'RESERVED', items: [{ productId, quantity: 2 }] });
    expect(reservation.history).toEqual([expect.objectContaining({ fromStatus: null, toStatus: 'RESERVED', reason: 'backorder filled' })]);

    // the next receipt finishes the partly filled one before the low-priority one gets anything
    await adjust(t, [{ productId, warehouseId: 'wh-b', quantity: 3, type: 'RECEIPT', reason: 'delivery' }]);
    const after = new Map((await backordersOf(productId)).map((row) => [row.referenceId, row]));
    expect(after.get(highNew)).toMatchObject({ status: 'FULFILLED', fulfilledQuantity: 3 });
    // both parts of its fill sit in one reservation
    expect((await api.get(after.get(highNew)!.reservationId!)).json().items.map((item: { quantity: number }) => item.quantity)).toEqual([2, 1]);
    expect(after.get(lowOld)).toMatchObject({ status: 'OPEN', fulfilledQuantity: 2 });
  });

  it('a transfer arrival fills a backorder', async () => {
    const productId = await product(5, 'wh-b');
    const orderId = await backorder(productId, 8, 'medium', { items: [{ productId, quantity: 8, warehouseId: 'wh-a' }] });
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/inventory/transfer',
      headers: admin,
      payload: { fromWarehouseId: 'wh-b', toWarehouseId: 'wh-a', items: [{ productId, quantity: 5 }] },
    });
    expect(sent.statusCode).toBe(201);
    expect((await backordersOf(productId))[0]).toMatchObject({ referenceId: orderId, fulfilledQuantity: 0 });
    const received = await t.app.inject({ method: 'POST', url: `/api/v1/inventory/transfers/${sent.json().transferId}/receive`, headers: admin });
    expect(received.statusCode).toBe(200);
    expect((await backordersOf(productId))[0]).toMatchObject({ referenceId: orderId, status: 'OPEN', fulfilledQuantity: 5 });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 5, reserved: 5, allocated: 0 });
  });

  it('a release fills the waiting backorders of its products and cancels its own', async () => {
    const productId = await product(6);
    const other = await product(0);
    const first = await api.reserve({
      orderId: 'rel-1',
      items: [
        { productId, quantity: 6 },
        { productId: other, quantity: 1 },
      ],
      allowPartial: true,
      allowBackorder: true,
    });
    expect(first.statusCode).toBe(201);
    const waiting = await backorder(productId, 4, 'high');

    const released = await api.release({ reservationId: first.json().reservationId, reason: 'order cancelled' });
    expect(released.statusCode).toBe(200);
    expect((await backordersOf(productId)).find((row) => row.referenceId === waiting)).toMatchObject({ status: 'FULFILLED' });
    expect(await backordersOf(other)).toEqual([expect.objectContaining({ referenceId: 'rel-1', status: 'CANCELLED' })]);
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 6, reserved: 4, allocated: 0 });
  });

  it('an expiry fills waiting backorders', async () => {
    const productId = await product(3);
    const held = await api.reserve({ orderId: 'exp-1', items: [{ productId, quantity: 3 }], timeoutMinutes: 1 });
    expect(held.statusCode).toBe(201);
    const waiting = await backorder(productId, 2, 'medium');
    await expireReservations(t.db.pool, { now: new Date(Date.now() + 2 * 60_000), batchSize: 10 });
    expect((await backordersOf(productId))[0]).toMatchObject({ referenceId: waiting, status: 'FULFILLED' });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 3, reserved: 2, allocated: 0 });
  });

  it('adds to the reservation of a partly served request, and allocates for an allocate-mode backorder', async () => {
    const reserved = await product(2);
    const partial = await api.reserve({ orderId: 'part-1', items: [{ productId: reserved, quantity: 5 }], allowPartial: true, allowBackorder: true });
    const allocatedProduct = await product(1);
    const direct = await api.allocate({ orderId: 'part-2', items: [{ productId: allocatedProduct, quantity: 3 }], allowPartial: true, allowBackorder: true });
    expect(direct.statusCode).toBe(201);

    await adjust(t, [
      { productId: reserved, warehouseId: 'wh-a', quantity: 10, type: 'RECEIPT', reason: 'delivery' },
      { productId: allocatedProduct, warehouseId: 'wh-a', quantity: 10, type: 'RECEIPT', reason: 'delivery' },
    ]);
    const grown = (await api.get(partial.json().reservationId)).json();
    expect(grown).toMatchObject({ status: 'RESERVED', version: 1, items: [{ productId: reserved, quantity: 5 }] });
    const committed = (await api.get(direct.json().reservationId)).json();
    expect(committed).toMatchObject({ status: 'ALLOCATED', items: [{ productId: allocatedProduct, quantity: 3 }] });
    expect(await totalsOf(t.db.pool, reserved)).toMatchObject({ reserved: 5, allocated: 0 });
    expect(await totalsOf(t.db.pool, allocatedProduct)).toMatchObject({ reserved: 0, allocated: 3 });
  });

  it('keeps a pinned backorder to its warehouse', async () => {
    const productId = await product(0);
    const orderId = await backorder(productId, 2, 'medium', { items: [{ productId, quantity: 2, warehouseId: 'wh-b' }] });
    await adjust(t, [{ productId, warehouseId: 'wh-a', quantity: 5, type: 'RECEIPT', reason: 'delivery' }]);
    expect((await backordersOf(productId))[0]).toMatchObject({ referenceId: orderId, fulfilledQuantity: 0 });
    await adjust(t, [{ productId, warehouseId: 'wh-b', quantity: 1, type: 'RECEIPT', reason: 'delivery' }]);
    expect((await backordersOf(productId))[0]).toMatchObject({ referenceId: orderId, fulfilledQuantity: 1 });
  });

  it('does nothing for products without open backorders', async () => {
    const productId = await product(5);
    const fills = await withTransaction(t.db.pool, (tx) => fillBackorders(tx, [productId], new Date(), 'test'));
    expect(fills).toEqual([]);
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 0 });
  });
});

describe('the backorders API', () => {
  it('lists with filters and pages, and cancels an open backorder once', async () => {
    const productId = await product(0);
    const orders = [await backorder(productId, 1, 'low'), await backorder(productId, 1, 'critical'), await backorder(productId, 1, 'medium')];
    const all = await backordersOf(productId);
    expect(all.map((row) => row.priority)).toEqual(['critical', 'medium', 'low']);
    const page = await api.call('GET', `/backorders?productId=${productId}&limit=1&offset=1`);
    expect(page.json()).toMatchObject({ items: [{ priority: 'medium' }], limit: 1, offset: 1 });
    const byReference = await api.call('GET', `/backorders?referenceId=${orders[0]}`);
    expect(byReference.json().items).toEqual([expect.objectContaining({ referenceId: orders[0], productId, status: 'OPEN' })]);

    const id: string = (await api.call('GET', `/backorders?referenceId=${orders[1]}`)).json().items[0].id;
    const cancelled = await api.call('DELETE', `/backorders/${id}`);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ id, status: 'CANCELLED' });
    const again = await api.call('DELETE', `/backorders/${id}`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'CANCELLED' } });
    expect((await api.call('GET', `/backorders?productId=${productId}&status=OPEN`)).json().items).toHaveLength(2);

    // a cancelled backorder is never filled
    await adjust(t, [{ productId, warehouseId: 'wh-a', quantity: 10, type: 'RECEIPT', reason: 'delivery' }]);
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 2 });
  });

  it('answers 404 for an unknown backorder and 400 for bad filters', async () => {
    expect((await api.call('DELETE', '/backorders/0190a000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect((await api.call('GET', '/backorders?status=LOST')).statusCode).toBe(400);
    expect((await api.call('GET', '/backorders?limit=0')).statusCode).toBe(400);
  });
});
