import { inventoryEventSchema } from '../../src/events/schemas';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, lotState, receive, seedCatalogue, service, stockSnapshot } from '../helpers/inventory';
import { expectBooksBalanced } from '../helpers/stock';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('transfers-complete');
  await seedCatalogue(t, { warehouses: ['wh-a', 'wh-b', 'wh-c'], products: ['tp-1', 'tp-2', 'tp-3', 'tp-4', 'tp-5', 'tp-6', 'tp-7', 'tp-8'] });
});
afterAll(async () => t.close());
afterEach(async () => expectBooksBalanced(t.db.pool));

type Transfer = {
  transferId: string;
  status: string;
  overdue: boolean;
  items: { productId: string; quantity: number; receivedQuantity: number; shortQuantity: number; returnedQuantity: number; inTransitQuantity: number }[];
  lines: { lineId: string; sourceLotId: string; destinationLotId: string | null; quantity: number; receivedQuantity: number; shortQuantity: number }[];
};

const call = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = admin) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload }) });
const send = async (payload: object): Promise<Transfer> => {
  const response = await call('POST', '/inventory/transfer', payload);
  expect(response.statusCode).toBe(201);
  return response.json();
};
const receiveIt = (id: string, payload?: object, headers?: Record<string, string>) => call('POST', `/inventory/transfers/${id}/receive`, payload, headers);
const cancelIt = (id: string, payload?: object) => call('POST', `/inventory/transfers/${id}/cancel`, payload);
const onHand = async (productId: string, warehouseId: string) => {
  const { rows } = await t.db.pool.query<{ n: number }>(
    'select coalesce(sum(quantity), 0)::int as n from inventory_items where product_id = $1 and warehouse_id = $2',
    [productId, warehouseId],
  );
  return rows[0]!.n;
};
const ledger = async (transferId: string) =>
  (
    await t.db.pool.query<{ type: string; warehouse: string; delta: number; reason: string }>(
      `select type, warehouse_id as warehouse, quantity_delta as delta, reason from inventory_transactions where reference_id = $1 order by id`,
      [transferId],
    )
  ).rows;
const events = async (transferId: string) =>
  (await t.db.pool.query(`select payload from outbox_events where aggregate_type = 'transfer' and aggregate_id = $1 order by id`, [transferId])).rows.map(
    (row) => inventoryEventSchema.parse(row.payload),
  );

describe('sending with the body of seed 002', () => {
  it('takes the warehouses from each item, keeps reason and expectedDelivery, and answers the stock at both ends', async () => {
    await receive(t, 'tp-1', 'wh-a', 30);
    await receive(t, 'tp-1', 'wh-b', 25);
    const sent = await send({
      items: [{ productId: 'tp-1', quantity: 10, fromWarehouseId: 'wh-a', toWarehouseId: 'wh-b' }],
      reason: 'Balancing inventory levels',
      expectedDelivery: '2099-01-17T10:00:00Z',
    });
    expect(sent).toMatchObject({
      status: 'IN_TRANSIT',
      fromWarehouseId: 'wh-a',
      toWarehouseId: 'wh-b',
      reason: 'Balancing inventory levels',
      expectedDelivery: '2099-01-17T10:00:00.000Z',
      overdue: false,
      items: [
        {
          productId: 'tp-1',
          quantity: 10,
          fromWarehouse: { id: 'wh-a', previousQuantity: 30, newQuantity: 20 },
          toWarehouse: { id: 'wh-b', expectedQuantity: 35 },
          inTransitQuantity: 10,
        },
      ],
    });
    expect((await call('GET', `/inventory/transfers/${sent.transferId}`, undefined, service)).json()).toMatchObject({ items: sent.items });
    expect((await events(sent.transferId))[0]).toMatchObject({
      type: 'TransferInitiated',
      reason: 'Balancing inventory levels',
      expectedDelivery: new Date('2099-01-17T10:00:00Z'),
      items: [{ productId: 'tp-1', quantity: 10 }],
    });
  });

  it.each([
    [
      'items of two pairs',
      {
        items: [
          { productId: 'tp-1', quantity: 1, fromWarehouseId: 'wh-a', toWarehouseId: 'wh-b' },
          { productId: 'tp-1', quantity: 1, fromWarehouseId: 'wh-a', toWarehouseId: 'wh-c' },
        ],
      },
      'items',
    ],
    ['an item without a destination', { items: [{ productId: 'tp-1', quantity: 1, fromWarehouseId: 'wh-a' }] }, 'items.0.toWarehouseId'],
    ['the same warehouse at both ends', { fromWarehouseId: 'wh-a', items: [{ productId: 'tp-1', quantity: 1, toWarehouseId: 'wh-a' }] }, 'toWarehouseId'],
    [
      'an expectedDelivery that is no time',
      { fromWarehouseId: 'wh-a', toWarehouseId: 'wh-b', items: [{ productId: 'tp-1', quantity: 1 }], expectedDelivery: 'soon' },
      'expectedDelivery',
    ],
  ])('answers 400 to %s and changes nothing', async (_name, payload, path) => {
    const before = await stockSnapshot(t.db.pool);
    const response = await call('POST', '/inventory/transfer', payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });
});

describe('receiving in part', () => {
  let sent: Transfer;

  beforeAll(async () => {
    await receive(t, 'tp-2', 'wh-a', 6, { receivedAt: '2024-01-01T00:00:00Z', lotNumber: 'OLD' });
    await receive(t, 'tp-2', 'wh-a', 4, { receivedAt: '2024-02-01T00:00:00Z', lotNumber: 'NEW' });
    await receive(t, 'tp-3', 'wh-a', 5);
    sent = await send({
      fromWarehouseId: 'wh-a',
      toWarehouseId: 'wh-b',
      items: [
        { productId: 'tp-2', quantity: 10 },
        { productId: 'tp-3', quantity: 5 },
      ],
    });
  });

  it('takes what arrived, a product at a time over its lines in order, and leaves the rest on its way', async () => {
    const response = await receiveIt(sent.transferId, { items: [{ productId: 'tp-2', quantity: 7 }] });
    expect(response.statusCode).toBe(200);
    const body = response.json<Transfer>();
    expect(body).toMatchObject({ status: 'PARTIALLY_RECEIVED', receivedQuantity: 7, inTransitQuantity: 8, receivedAt: null });
    expect(body.items).toEqual([
      expect.objectContaining({ productId: 'tp-2', receivedQuantity: 7, inTransitQuantity: 3 }),
      expect.objectContaining({ productId: 'tp-3', receivedQuantity: 0, inTransitQuantity: 5 }),
    ]);
    const [old, newer] = body.lines;
    expect([old!.receivedQuantity, newer!.receivedQuantity]).toEqual([6, 1]);
    expect(await lotState(t.db.pool, old!.destinationLotId!)).toMatchObject({ quantity: 6, lotNumber: 'OLD', warehouseId: 'wh-b' });
    expect(await lotState(t.db.pool, newer!.destinationLotId!)).toMatchObject({ quantity: 1, lotNumber: 'NEW', warehouseId: 'wh-b' });
    expect(await onHand('tp-2', 'wh-b')).toBe(7);
    expect((await events(sent.transferId)).at(-1)).toMatchObject({
      type: 'TransferReceived',
      status: 'PARTIALLY_RECEIVED',
      items: [{ productId: 'tp-2', quantity: 7 }],
      shortages: [],
      reason: null,
    });
  });

  it('takes a line by its id, into the lot that line arrived in before', async () => {
    const newer = sent.lines.find((line) => line.quantity === 4)!;
    const response = await receiveIt(sent.transferId, { items: [{ lineId: newer.lineId, quantity: 1 }] });
    expect(response.statusCode).toBe(200);
    const line = response.json<Transfer>().lines.find((entry) => entry.lineId === newer.lineId)!;
    expect(line).toMatchObject({ receivedQuantity: 2 });
    expect(await lotState(t.db.pool, line.destinationLotId!)).toMatchObject({ quantity: 2 });
  });

  it('refuses more than is on its way (409) and what is not part of the transfer (400), changing nothing', async () => {
    const before = await stockSnapshot(t.db.pool);
    const tooMany = await receiveIt(sent.transferId, { items: [{ productId: 'tp-2', quantity: 3 }] });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json().error).toMatchObject({ code: 'CONFLICT', details: { excess: [{ item: 0, productId: 'tp-2', received: 3, inTransit: 2 }] } });
    const stranger = await receiveIt(sent.transferId, { items: [{ productId: 'tp-8', quantity: 1 }] });
    expect(stranger.statusCode).toBe(400);
    expect(stranger.json().error).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknown: [{ item: 0, productId: 'tp-8' }] } });
    for (const payload of [{ items: [] }, { reason: 'no complete' }, { items: [{ productId: 'tp-2', quantity: 0 }] }]) {
      expect((await receiveIt(sent.transferId, payload)).statusCode).toBe(400);
    }
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('closes short with complete: what did not arrive arrives and is written off with the reason, so the ledger shows every unit', async () => {
    const response = await receiveIt(sent.transferId, { items: [{ productId: 'tp-3', quantity: 4 }], complete: true, reason: 'carton crushed' });
    expect(response.statusCode).toBe(200);
    const body = response.json<Transfer>();
    expect(body).toMatchObject({ status: 'RECEIVED', receivedQuantity: 12, shortQuantity: 3, inTransitQuantity: 0, receivedAt: expect.any(String) });
    expect(body.items).toEqual([
      expect.objectContaining({ productId: 'tp-2', receivedQuantity: 8, shortQuantity: 2 }),
      expect.objectContaining({ productId: 'tp-3', receivedQuantity: 4, shortQuantity: 1 }),
    ]);
    expect(await onHand('tp-2', 'wh-b')).toBe(8);
    expect(await onHand('tp-3', 'wh-b')).toBe(4);
    const rows = await ledger(sent.transferId);
    expect(rows.filter((row) => row.type === 'TRANSFER_SHORTAGE')).toEqual([
      { type: 'TRANSFER_SHORTAGE', warehouse: 'wh-b', delta: -2, reason: 'short on arrival: carton crushed' },
      { type: 'TRANSFER_SHORTAGE', warehouse: 'wh-b', delta: -1, reason: 'short on arrival: carton crushed' },
    ]);
    // every unit that left arrived in the ledger, and the shortage is written off there
    const total = (type: string) => rows.filter((row) => row.type === type).reduce((sum, row) => sum + row.delta, 0);
    expect([total('TRANSFER_OUT'), total('TRANSFER_IN'), total('TRANSFER_SHORTAGE')]).toEqual([-15, 15, -3]);
    expect((await events(sent.transferId)).at(-1)).toMatchObject({
      type: 'TransferReceived',
      status: 'RECEIVED',
      items: [{ productId: 'tp-3', quantity: 4 }],
      shortages: [
        { productId: 'tp-2', quantity: 2 },
        { productId: 'tp-3', quantity: 1 },
      ],
      reason: 'short on arrival: carton crushed',
    });
  });

  it('refuses to receive or cancel a transfer that is done (409 INVALID_TRANSITION)', async () => {
    for (const response of [await receiveIt(sent.transferId), await cancelIt(sent.transferId)]) {
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'RECEIVED' } });
    }
  });
});

describe('cancelling a transfer on its way', () => {
  it('puts the units still travelling back into the lots they left; what arrived stays', async () => {
    const lot = await receive(t, 'tp-4', 'wh-a', 10);
    const sent = await send({ fromWarehouseId: 'wh-a', toWarehouseId: 'wh-c', items: [{ productId: 'tp-4', quantity: 8 }] });
    expect((await receiveIt(sent.transferId, { items: [{ productId: 'tp-4', quantity: 3 }] })).statusCode).toBe(200);
    const response = await cancelIt(sent.transferId, { reason: 'sent to the wrong site' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'sent to the wrong site',
      cancelledAt: expect.any(String),
      receivedQuantity: 3,
      returnedQuantity: 5,
      inTransitQuantity: 0,
    });
    expect(await lotState(t.db.pool, lot)).toMatchObject({ quantity: 7 });
    expect(await onHand('tp-4', 'wh-c')).toBe(3);
    expect((await ledger(sent.transferId)).at(-1)).toEqual({
      type: 'TRANSFER_RETURN',
      warehouse: 'wh-a',
      delta: 5,
      reason: 'transfer to wh-c cancelled: sent to the wrong site',
    });
    expect((await events(sent.transferId)).at(-1)).toMatchObject({
      type: 'TransferCancelled',
      items: [{ productId: 'tp-4', quantity: 5 }],
      reason: 'sent to the wrong site',
      cancelledBy: 'ops-1',
    });
    expect((await cancelIt(sent.transferId)).json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'CANCELLED' } });
  });

  it('fills backorders waiting at the source with the units that come back', async () => {
    await receive(t, 'tp-5', 'wh-a', 4);
    const sent = await send({ fromWarehouseId: 'wh-a', toWarehouseId: 'wh-b', items: [{ productId: 'tp-5', quantity: 4 }] });
    const waiting = await call(
      'POST',
      '/inventory/reserve',
      { orderId: 'tp-order-1', items: [{ productId: 'tp-5', quantity: 2 }], allowBackorder: true },
      service,
    );
    expect(waiting.statusCode).toBe(202);
    expect((await cancelIt(sent.transferId)).statusCode).toBe(200);
    const backorders = (await call('GET', '/backorders?orderId=tp-order-1', undefined, service)).json().items;
    expect(backorders).toEqual([expect.objectContaining({ status: 'FULFILLED', fulfilledQuantity: 2 })]);
  });

  it('of a receive and a cancel at the same time exactly one happens', async () => {
    await receive(t, 'tp-6', 'wh-a', 5);
    const sent = await send({ fromWarehouseId: 'wh-a', toWarehouseId: 'wh-b', items: [{ productId: 'tp-6', quantity: 5 }] });
    const [received, cancelled] = await Promise.all([receiveIt(sent.transferId), cancelIt(sent.transferId)]);
    expect([received.statusCode, cancelled.statusCode].sort()).toEqual([200, 409]);
    expect((await onHand('tp-6', 'wh-a')) + (await onHand('tp-6', 'wh-b'))).toBe(5);
  });

  it('replays a receipt repeated under its Idempotency-Key', async () => {
    await receive(t, 'tp-7', 'wh-a', 5);
    const sent = await send({ fromWarehouseId: 'wh-a', toWarehouseId: 'wh-b', items: [{ productId: 'tp-7', quantity: 5 }] });
    const key = { ...admin, 'idempotency-key': `receive-${sent.transferId}` };
    const first = await receiveIt(sent.transferId, { items: [{ productId: 'tp-7', quantity: 2 }] }, key);
    const again = await receiveIt(sent.transferId, { items: [{ productId: 'tp-7', quantity: 2 }] }, key);
    expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await onHand('tp-7', 'wh-b')).toBe(2);
    expect((await receiveIt(sent.transferId, { items: [{ productId: 'tp-7', quantity: 1 }] }, key)).statusCode).toBe(422);
  });
});

describe('GET /inventory/transfers', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await receive(t, 'tp-8', 'wh-a', 20);
    await receive(t, 'tp-8', 'wh-b', 20);
    ids.late = (
      await send({ fromWarehouseId: 'wh-a', toWarehouseId: 'wh-b', items: [{ productId: 'tp-8', quantity: 1 }], expectedDelivery: '2020-01-01T00:00:00Z' })
    ).transferId;
    ids.onTime = (
      await send({ fromWarehouseId: 'wh-b', toWarehouseId: 'wh-c', items: [{ productId: 'tp-8', quantity: 1 }], expectedDelivery: '2099-01-01T00:00:00Z' })
    ).transferId;
    ids.arrived = (
      await send({ fromWarehouseId: 'wh-a', toWarehouseId: 'wh-c', items: [{ productId: 'tp-8', quantity: 1 }], expectedDelivery: '2020-01-01T00:00:00Z' })
    ).transferId;
    expect((await receiveIt(ids.arrived)).statusCode).toBe(200);
  });

  const find = async (query: string) => {
    const response = await call('GET', `/inventory/transfers${query}`, undefined, service);
    expect(response.statusCode).toBe(200);
    return response.json<{ items: Transfer[]; nextCursor: string | null }>();
  };
  const idsOf = async (query: string) => (await find(query)).items.map((item) => item.transferId);

  it('shows a transfer still on its way after its expected delivery as overdue, and finds the overdue ones', async () => {
    expect((await call('GET', `/inventory/transfers/${ids.late}`, undefined, service)).json()).toMatchObject({ overdue: true, status: 'IN_TRANSIT' });
    expect((await call('GET', `/inventory/transfers/${ids.arrived}`, undefined, service)).json()).toMatchObject({ overdue: false, status: 'RECEIVED' });
    expect(await idsOf('?overdue=true&productId=tp-8')).toEqual([ids.late]);
    expect(await idsOf('?overdue=false&productId=tp-8')).toEqual([ids.arrived, ids.onTime]);
    // and operators see how many there are
    const metrics = await t.admin('/metrics');
    expect(await metrics.text()).toMatch(/^stockroom_transfers_overdue 1$/m);
  });

  it('filters by status, either end, product and creation time, newest first', async () => {
    expect(await idsOf('?productId=tp-8')).toEqual([ids.arrived, ids.onTime, ids.late]);
    expect(await idsOf('?productId=tp-8&status=IN_TRANSIT')).toEqual([ids.onTime, ids.late]);
    expect(await idsOf('?productId=tp-8&status=RECEIVED,CANCELLED')).toEqual([ids.arrived]);
    expect(await idsOf('?productId=tp-8&fromWarehouseId=wh-a')).toEqual([ids.arrived, ids.late]);
    expect(await idsOf('?productId=tp-8&toWarehouseId=wh-c')).toEqual([ids.arrived, ids.onTime]);
    expect(await idsOf('?productId=tp-8&warehouseId=wh-b')).toEqual([ids.onTime, ids.late]);
    expect(await idsOf('?status=PARTIALLY_RECEIVED&productId=tp-8')).toEqual([]);
    const created = (await call('GET', `/inventory/transfers/${ids.onTime}`, undefined, service)).json().initiatedAt as string;
    expect(await idsOf(`?productId=tp-8&createdTo=${created}`)).toEqual([ids.late]);
  });

  it('pages by cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Transfer[]; nextCursor: string | null } = await find(`?productId=tp-8&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((item) => item.transferId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([ids.arrived, ids.onTime, ids.late]);
  });

  it('refuses bad filters with 400', async () => {
    for (const query of ['?status=LOST', '?overdue=yes', '?cursor=1', '?warehouseId=a b', '?createdFrom=2025-02-01T00:00:00Z&createdTo=2025-01-01T00:00:00Z']) {
      expect({ query, status: (await call('GET', `/inventory/transfers${query}`, undefined, service)).statusCode }).toEqual({ query, status: 400 });
    }
  });
});
