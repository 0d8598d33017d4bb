import { z } from 'zod';
import { expireReservations } from '../../src/inventory/reservations/expire';
import { backorderedAnswerSchema, reservationDetailSchema, reserveAnswerSchema } from '../../src/schemas/reservations';
import { startTestApp, type TestApp } from '../helpers/app';
import { inventoryApi } from '../helpers/inventory-api';
import { ledgerDifferences, lotsOf, receiveLots, reservationBookDifferences, seedCatalogue, totalsOf } from '../helpers/stock';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;
const day = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * day);
const ahead = (days: number) => new Date(Date.now() + days * day);

beforeAll(async () => {
  t = await startTestApp('reservations', { env: { RESERVATION_TIMEOUT_MINUTES: '30', RESERVATION_MAX_MINUTES: '120' } });
  api = inventoryApi(t.app);
  await seedCatalogue(t.db.pool, {
    warehouses: [
      { id: 'wh-a' },
      { id: 'wh-b' },
      { id: 'wh-nyc', latitude: 40.71, longitude: -74.01 },
      { id: 'wh-chi', latitude: 41.88, longitude: -87.63 },
      { id: 'wh-la', latitude: 34.05, longitude: -118.24 },
      { id: 'wh-prem', premium: true, priority: 5 },
      { id: 'wh-off', active: false },
    ],
  });
});
afterAll(async () => t.close());

afterEach(async () => {
  expect(await ledgerDifferences(t.db.pool)).toEqual([]);
  expect(await reservationBookDifferences(t.db.pool)).toEqual([]);
});

let counter = 0;
/** A fresh product with the given lots; returns its id. */
async function product(lots: { warehouseId?: string; quantity: number; lotNumber?: string; receivedAt?: Date; expiresAt?: Date | null; unitCost?: number }[]) {
  counter += 1;
  const id = `p-${counter}`;
  await seedCatalogue(t.db.pool, { products: [id] });
  await receiveLots(
    t.db.pool,
    lots.map((lot, index) => ({ warehouseId: 'wh-a', lotNumber: `L${index + 1}`, ...lot, productId: id })),
  );
  return id;
}
const order = () => `ord-${++counter}`;

type Answer = { items: { warehouseId: string; lots: { lotNumber: string | null; quantity: number }[] }[] };
const takenLots = (answer: Answer) => answer.items.flatMap((item) => item.lots.map((lot) => `${lot.lotNumber}:${lot.quantity}`)).sort();

describe('strategies through the API', () => {
  type Case = {
    name: string;
    lots: Parameters<typeof product>[0];
    request: Record<string, unknown>;
    quantity: number;
    expected: string[];
  };
  const cases: Case[] = [
    {
      name: 'fifo takes the oldest lots first',
      lots: [
        { quantity: 5, receivedAt: ago(2) },
        { quantity: 5, receivedAt: ago(3) },
        { quantity: 5, receivedAt: ago(1) },
      ],
      request: { strategy: 'fifo' },
      quantity: 7,
      expected: ['L1:2', 'L2:5'],
    },
    {
      name: 'fifo skips an expired lot however old',
      lots: [
        { quantity: 5, receivedAt: ago(9), expiresAt: ago(1) },
        { quantity: 5, receivedAt: ago(3) },
      ],
      request: {},
      quantity: 4,
      expected: ['L2:4'],
    },
    {
      name: 'lifo takes the newest lots first',
      lots: [
        { quantity: 5, receivedAt: ago(2) },
        { quantity: 5, receivedAt: ago(3) },
        { quantity: 5, receivedAt: ago(1) },
      ],
      request: { strategy: 'lifo' },
      quantity: 7,
      expected: ['L1:2', 'L3:5'],
    },
    {
      name: 'nearest_expiry takes the soonest expiring lots first and never an expired one',
      lots: [
        { quantity: 5, receivedAt: ago(5), expiresAt: ahead(10) },
        { quantity: 5, receivedAt: ago(1), expiresAt: ahead(2) },
        { quantity: 5, receivedAt: ago(9), expiresAt: null },
        { quantity: 50, receivedAt: ago(9), expiresAt: ago(1) },
      ],
      request: { strategy: 'nearest_expiry' },
      quantity: 12,
      expected: ['L1:5', 'L2:5', 'L3:2'],
    },
    {
      name: 'lowest_cost takes the cheapest lots first',
      lots: [
        { quantity: 5, receivedAt: ago(3), unitCost: 3 },
        { quantity: 5, receivedAt: ago(2), unitCost: 1 },
        { quantity: 5, receivedAt: ago(1), unitCost: 2 },
      ],
      request: { strategy: 'lowest_cost' },
      quantity: 7,
      expected: ['L2:5', 'L3:2'],
    },
    {
      name: 'nearest_location takes from the warehouses nearest the destination first',
      lots: [
        { warehouseId: 'wh-la', quantity: 5, receivedAt: ago(9) },
        { warehouseId: 'wh-chi', quantity: 5, receivedAt: ago(5) },
        { warehouseId: 'wh-nyc', quantity: 5, receivedAt: ago(1) },
      ],
      request: { strategy: 'nearest_location', destination: { latitude: 42.36, longitude: -71.06 } },
      quantity: 7,
      expected: ['L2:2', 'L3:5'],
    },
    {
      name: 'load_balancing spreads across warehouses in proportion to their stock',
      lots: [
        { warehouseId: 'wh-a', quantity: 30 },
        { warehouseId: 'wh-b', quantity: 10 },
      ],
      request: { strategy: 'load_balancing' },
      quantity: 8,
      expected: ['L1:6', 'L2:2'],
    },
    {
      name: 'priority_zone gives a high-priority request the premium warehouse first',
      lots: [
        { warehouseId: 'wh-a', quantity: 5, receivedAt: ago(9) },
        { warehouseId: 'wh-prem', quantity: 5, receivedAt: ago(1) },
      ],
      request: { strategy: 'priority_zone', priority: 'high' },
      quantity: 6,
      expected: ['L1:1', 'L2:5'],
    },
    {
      name: 'priority_zone keeps a low-priority request out of the premium warehouse while others have stock',
      lots: [
        { warehouseId: 'wh-a', quantity: 5, receivedAt: ago(1) },
        { warehouseId: 'wh-prem', quantity: 5, receivedAt: ago(9) },
      ],
      request: { strategy: 'priority_zone', priority: 'low' },
      quantity: 4,
      expected: ['L1:4'],
    },
    {
      name: 'a pinned warehouse serves alone, whatever the strategy prefers',
      lots: [
        { warehouseId: 'wh-a', quantity: 5, receivedAt: ago(9) },
        { warehouseId: 'wh-b', quantity: 5, receivedAt: ago(1) },
      ],
      request: { pin: 'wh-b' },
      quantity: 3,
      expected: ['L2:3'],
    },
    {
      name: 'an inactive warehouse never serves',
      lots: [
        { warehouseId: 'wh-off', quantity: 5, receivedAt: ago(9) },
        { warehouseId: 'wh-b', quantity: 5, receivedAt: ago(1) },
      ],
      request: {},
      quantity: 3,
      expected: ['L2:3'],
    },
  ];

  it.each(cases)('$name', async ({ lots, request, quantity, expected }) => {
    const productId = await product(lots);
    const { pin, ...options } = request;
    const response = await api.reserve({
      orderId: order(),
      items: [{ productId, quantity, ...(pin ? { warehouseId: pin } : {}) }],
      ...options,
    });
    expect(response.statusCode).toBe(201);
    expect(takenLots(response.json())).toEqual(expected);
  });
});

describe('reserve', () => {
  it('answers the SPEC reservation shape and holds the stock', async () => {
    const productId = await product([{ quantity: 10 }]);
    const orderId = order();
    const response = await api.reserve({ orderId, customerId: 'cust-1', items: [{ productId, quantity: 4 }], timeoutMinutes: 15 });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({
      reservationId: expect.any(String),
      orderId,
      status: 'RESERVED',
      items: [
        { productId, warehouseId: 'wh-a', quantity: 4, reserved: true, released: false, lots: [{ lotId: expect.any(String), lotNumber: 'L1', quantity: 4 }] },
      ],
      expiresAt: expect.any(String),
      createdAt: expect.any(String),
      shortfall: [],
      backorders: [],
    });
    expect(Date.parse(body.expiresAt) - Date.parse(body.createdAt)).toBe(15 * 60_000);
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 10, reserved: 4, allocated: 0 });
  });

  it('reserves nothing when any line is short and allowPartial is false, and says what each line lacks', async () => {
    const plenty = await product([{ quantity: 10 }]);
    const scarce = await product([{ quantity: 2 }]);
    const response = await api.reserve({
      orderId: order(),
      items: [
        { productId: plenty, quantity: 3 },
        { productId: scarce, quantity: 5 },
      ],
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { shortfall: [{ lineIndex: 1, productId: scarce, requestedQuantity: 5, availableQuantity: 2, reason: 'insufficient_inventory' }] },
    });
    for (const id of [plenty, scarce]) {
      const { rows } = await t.db.pool.query(`select type from inventory_transactions where product_id = $1`, [id]);
      expect(rows.map((row) => row.type)).toEqual(['RECEIPT']);
    }
  });

  it('reserves what there is with allowPartial and the ledger shows exactly that', async () => {
    const productId = await product([
      { quantity: 2, receivedAt: ago(2) },
      { quantity: 3, receivedAt: ago(1) },
    ]);
    const response = await api.reserve({ orderId: order(), items: [{ productId, quantity: 8 }], allowPartial: true });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.shortfall).toEqual([expect.objectContaining({ productId, requestedQuantity: 8, availableQuantity: 5 })]);
    const { rows } = await t.db.pool.query(
      `select type, reserved_delta as "reservedDelta", reserved_after as "reservedAfter", reference_id as "referenceId"
         from inventory_transactions where product_id = $1 and type <> 'RECEIPT' order by id`,
      [productId],
    );
    expect(rows).toEqual([
      { type: 'RESERVE', reservedDelta: 2, reservedAfter: 2, referenceId: body.reservationId },
      { type: 'RESERVE', reservedDelta: 3, reservedAfter: 3, referenceId: body.reservationId },
    ]);
  });

  it('backorders the missing units and answers 202 when an all-or-nothing request gets nothing', async () => {
    const productId = await product([{ quantity: 2 }]);
    const response = await api.reserve({ orderId: order(), items: [{ productId, quantity: 5 }], allowBackorder: true });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ reservationId: null, status: 'BACKORDERED', backorders: [{ productId, quantity: 5 }] });
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 0 });
  });

  it.each([
    ['nearest_location without a destination', { strategy: 'nearest_location' }],
    ['a hold longer than RESERVATION_MAX_MINUTES', { timeoutMinutes: 121 }],
    ['an unknown field', { rush: true }],
    ['an unknown strategy', { strategy: 'cheapest' }],
    ['a zero quantity', { quantity: 0 }],
  ])('refuses %s with 400 and changes nothing', async (_name, extra) => {
    const productId = await product([{ quantity: 5 }]);
    const { quantity, ...rest } = extra as { quantity?: number };
    const response = await api.reserve({ orderId: order(), items: [{ productId, quantity: quantity ?? 1 }], ...rest });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_FAILED');
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 0 });
  });

  it('refuses unknown products and warehouses with 400 UNKNOWN_REFERENCE', async () => {
    const productId = await product([{ quantity: 5 }]);
    const response = await api.reserve({
      orderId: order(),
      items: [
        { productId, quantity: 1, warehouseId: 'wh-nowhere' },
        { productId: 'nope', quantity: 1 },
      ],
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknownProducts: ['nope'], unknownWarehouses: ['wh-nowhere'] } });
  });
});

async function reserved(quantity = 4, extra: Record<string, unknown> = {}) {
  const productId = await product([{ quantity: 10 }]);
  const response = await api.reserve({ orderId: order(), items: [{ productId, quantity }], ...extra });
  expect(response.statusCode).toBe(201);
  return { productId, id: response.json().reservationId as string };
}

describe('the lifecycle', () => {
  it('releases a reservation: stock back, RELEASE movements, history', async () => {
    const { productId, id } = await reserved();
    const response = await api.release({ reservationId: id, reason: 'order cancelled' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      status: 'RELEASED',
      version: 1,
      items: [{ quantity: 4, reserved: false, released: true, lots: [{ reservedQuantity: 0, releasedQuantity: 4, allocatedQuantity: 0 }] }],
      history: [
        { fromStatus: null, toStatus: 'RESERVED', actor: 'checkout' },
        { fromStatus: 'RESERVED', toStatus: 'RELEASED', reason: 'order cancelled', actor: 'checkout', reference: expect.any(String), at: expect.any(String) },
      ],
    });
    // seed 002's releasedAt: when it was released, which GET keeps answering
    expect(body.releasedAt).toBe(body.history[1].at);
    expect((await api.get(id)).json()).toMatchObject({ releasedAt: body.releasedAt });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 10, reserved: 0, allocated: 0 });
    const { rows } = await t.db.pool.query(`select type, reserved_delta from inventory_transactions where reference_id = $1 order by id`, [id]);
    expect(rows).toEqual([
      { type: 'RESERVE', reserved_delta: 4 },
      { type: 'RELEASE', reserved_delta: -4 },
    ]);
  });

  it('allocates a whole reservation, then ships it in two parts to FULFILLED', async () => {
    const { productId, id } = await reserved(4);
    const allocated = await api.allocate({ reservationId: id });
    expect(allocated.statusCode).toBe(200);
    expect(allocated.json()).toMatchObject({ status: 'ALLOCATED', items: [{ lots: [{ allocatedQuantity: 4, reservedQuantity: 0 }] }] });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 10, reserved: 0, allocated: 4 });

    const first = await api.ship({ reservationId: id, items: [{ productId, quantity: 1 }] });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'ALLOCATED', items: [{ lots: [{ shippedQuantity: 1 }] }] });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 9, reserved: 0, allocated: 3 });

    const rest = await api.ship({ reservationId: id });
    expect(rest.json()).toMatchObject({ status: 'FULFILLED', items: [{ lots: [{ shippedQuantity: 4 }] }] });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 6, reserved: 0, allocated: 0 });
    expect(rest.json().history.map((change: { toStatus: string }) => change.toStatus)).toEqual(['RESERVED', 'ALLOCATED', 'FULFILLED']);
    const { rows } = await t.db.pool.query(
      `select type, quantity_delta, allocated_delta from inventory_transactions where reference_id = $1 and type = 'SHIP' order by id`,
      [id],
    );
    expect(rows).toEqual([
      { type: 'SHIP', quantity_delta: -1, allocated_delta: -1 },
      { type: 'SHIP', quantity_delta: -3, allocated_delta: -3 },
    ]);
  });

  it('allocates part of a reservation and releases the rest', async () => {
    const kept = await product([{ quantity: 10 }]);
    const dropped = await product([{ quantity: 10 }]);
    const response = await api.reserve({
      orderId: order(),
      items: [
        { productId: kept, quantity: 6 },
        { productId: dropped, quantity: 2 },
      ],
    });
    const id = response.json().reservationId;
    const allocated = await api.allocate({ reservationId: id, items: [{ productId: kept, quantity: 4 }] });
    expect(allocated.statusCode).toBe(200);
    expect(allocated.json()).toMatchObject({
      status: 'ALLOCATED',
      releasedAt: null,
      items: [
        { productId: kept, reserved: false, released: true },
        { productId: dropped, reserved: false, released: true },
      ],
      history: [{}, { toStatus: 'ALLOCATED', reason: 'allocated in part; 4 released' }],
    });
    expect(await totalsOf(t.db.pool, kept)).toEqual({ quantity: 10, reserved: 0, allocated: 4 });
    expect(await totalsOf(t.db.pool, dropped)).toEqual({ quantity: 10, reserved: 0, allocated: 0 });
  });

  it('refuses to allocate more of a product than the reservation holds, changing nothing', async () => {
    const { productId, id } = await reserved(2);
    const response = await api.allocate({ reservationId: id, items: [{ productId, quantity: 3 }] });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.details).toMatchObject({ productId, requested: 3, available: 2 });
    expect((await api.get(id)).json().status).toBe('RESERVED');
  });

  it('allocates directly without a reservation', async () => {
    const productId = await product([{ quantity: 10 }]);
    const response = await api.allocate({ orderId: order(), items: [{ productId, quantity: 3 }] });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ status: 'ALLOCATED', items: [{ quantity: 3 }] });
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 10, reserved: 0, allocated: 3 });
    const shipped = await api.ship({ reservationId: response.json().reservationId });
    expect(shipped.json().status).toBe('FULFILLED');
  });

  it('extends a hold, never beyond RESERVATION_MAX_MINUTES from creation', async () => {
    const { id } = await reserved(1);
    const before = (await api.get(id)).json();
    const extended = await api.extend(id, { minutes: 60 });
    expect(extended.statusCode).toBe(200);
    expect(Date.parse(extended.json().expiresAt) - Date.parse(before.expiresAt)).toBe(60 * 60_000);
    const tooFar = await api.extend(id, { minutes: 31 });
    expect(tooFar.statusCode).toBe(409);
    expect(tooFar.json().error.details.latestExpiresAt).toBe(new Date(Date.parse(before.createdAt) + 120 * 60_000).toISOString());
    expect((await api.extend(id, { minutes: 121 })).statusCode).toBe(400);
    expect((await api.extend(id, { minutes: 30 })).statusCode).toBe(200);
  });

  it('refuses a stale version with 409 VERSION_CONFLICT and accepts the current one', async () => {
    const { id } = await reserved(1);
    await api.extend(id, { minutes: 5 });
    const stale = await api.release({ reservationId: id, version: 0 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error).toMatchObject({ code: 'VERSION_CONFLICT', details: { currentVersion: 1 } });
    expect((await api.release({ reservationId: id, version: 1 })).statusCode).toBe(200);
  });

  it('answers 404 for an unknown reservation and 400 for a malformed id', async () => {
    expect((await api.get('0190a000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect((await api.release({ reservationId: '0190a000-0000-7000-8000-000000000000' })).statusCode).toBe(404);
    expect((await api.get('not-a-uuid')).statusCode).toBe(400);
  });
});

describe('invalid transitions', () => {
  type Status = 'RESERVED' | 'ALLOCATED' | 'FULFILLED' | 'RELEASED' | 'EXPIRED' | 'lapsed';
  async function inStatus(status: Status): Promise<string> {
    const { id } = await reserved(1, status === 'EXPIRED' ? { timeoutMinutes: 1 } : {});
    if (status === 'ALLOCATED' || status === 'FULFILLED') await api.allocate({ reservationId: id });
    if (status === 'FULFILLED') await api.ship({ reservationId: id });
    if (status === 'RELEASED') await api.release({ reservationId: id });
    if (status === 'EXPIRED') await expireReservations(t.db.pool, { now: new Date(Date.now() + 2 * 60_000), batchSize: 100 });
    // a hold whose time ran out before any sweep: callers must already see it as EXPIRED
    if (status === 'lapsed') await t.db.pool.query(`update reservations set expires_at = now() - interval '1 second' where id = $1`, [id]);
    return id;
  }
  const calls = {
    release: (id: string) => api.release({ reservationId: id }),
    allocate: (id: string) => api.allocate({ reservationId: id }),
    ship: (id: string) => api.ship({ reservationId: id }),
    extend: (id: string) => api.extend(id, { minutes: 1 }),
  };
  const refused: [Status, keyof typeof calls, string][] = [
    ['RESERVED', 'ship', 'RESERVED'],
    ['ALLOCATED', 'release', 'ALLOCATED'],
    ['ALLOCATED', 'allocate', 'ALLOCATED'],
    ['ALLOCATED', 'extend', 'ALLOCATED'],
    ['FULFILLED', 'release', 'FULFILLED'],
    ['FULFILLED', 'allocate', 'FULFILLED'],
    ['FULFILLED', 'ship', 'FULFILLED'],
    ['FULFILLED', 'extend', 'FULFILLED'],
    ['RELEASED', 'release', 'RELEASED'],
    ['RELEASED', 'allocate', 'RELEASED'],
    ['RELEASED', 'ship', 'RELEASED'],
    ['RELEASED', 'extend', 'RELEASED'],
    ['EXPIRED', 'release', 'EXPIRED'],
    ['EXPIRED', 'allocate', 'EXPIRED'],
    ['EXPIRED', 'ship', 'EXPIRED'],
    ['EXPIRED', 'extend', 'EXPIRED'],
    ['lapsed', 'allocate', 'EXPIRED'],
    ['lapsed', 'release', 'EXPIRED'],
    ['lapsed', 'extend', 'EXPIRED'],
  ];
  it.each(refused)('from %s, %s is refused with 409 naming %s and changes nothing', async (status, call, named) => {
    const id = await inStatus(status);
    const before = (await api.get(id)).json();
    const response = await calls[call](id);
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: named } });
    expect(response.json().error.message).toContain(named);
    expect((await api.get(id)).json()).toEqual(before);
  });
});

describe('idempotency', () => {
  it('replays a reserve with the same key and body, and refuses another body with 422', async () => {
    const productId = await product([{ quantity: 10 }]);
    const body = { orderId: order(), items: [{ productId, quantity: 3 }] };
    const first = await api.reserve(body, { 'idempotency-key': `k-${productId}` });
    const again = await api.reserve(body, { 'idempotency-key': `k-${productId}` });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 3 });
    const other = await api.reserve({ ...body, items: [{ productId, quantity: 4 }] }, { 'idempotency-key': `k-${productId}` });
    expect(other.statusCode).toBe(422);
  });

  it('makes one reservation of concurrent reserves with the same key', async () => {
    const productId = await product([{ quantity: 10 }]);
    const body = { orderId: order(), items: [{ productId, quantity: 2 }] };
    const answers = await Promise.all([1, 2, 3].map(() => api.reserve(body, { 'idempotency-key': `same-${productId}` })));
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((answer) => answer.json().reservationId)).size).toBe(1);
    const { rows } = await t.db.pool.query(`select count(*)::int as n from reservations where order_id = $1`, [body.orderId]);
    expect(rows[0].n).toBe(1);
    expect(await totalsOf(t.db.pool, productId)).toMatchObject({ reserved: 2 });
  });

  it('answers a call with a key in the JSON its route schema writes, and replays the same bytes', async () => {
    // the schema's own encoding of the answer: its keys in the schema's order, nothing it does not name
    const written = (schema: z.ZodType, payload: string) => JSON.stringify(z.encode(schema, z.decode(schema, JSON.parse(payload))));
    const productId = await product([{ quantity: 10 }]);
    const keyless = await api.reserve({ orderId: order(), items: [{ productId, quantity: 1 }] });
    const calls = [
      {
        status: 201,
        schema: reserveAnswerSchema,
        send: (key: string) => api.reserve({ orderId: `bytes-${productId}`, items: [{ productId, quantity: 2 }] }, { 'idempotency-key': key }),
      },
      {
        status: 202,
        schema: backorderedAnswerSchema,
        send: (key: string) =>
          api.allocate({ orderId: `bytes-short-${productId}`, items: [{ productId, quantity: 50 }], allowBackorder: true }, { 'idempotency-key': key }),
      },
      {
        status: 200,
        schema: reservationDetailSchema,
        send: (key: string) => api.release({ reservationId: keyless.json().reservationId }, { 'idempotency-key': key }),
      },
    ];
    for (const [index, { status, schema, send }] of calls.entries()) {
      const first = await send(`bytes-${index}-${productId}`);
      const again = await send(`bytes-${index}-${productId}`);
      expect([first.statusCode, again.statusCode]).toEqual([status, status]);
      expect(first.payload).toBe(written(schema, first.payload));
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.payload).toBe(first.payload);
      expect([first.headers['content-type'], again.headers['content-type']]).toEqual([keyless.headers['content-type'], keyless.headers['content-type']]);
    }
  });

  it('replays a direct allocation, and a 202 backordered answer', async () => {
    const productId = await product([{ quantity: 3 }]);
    const direct = { orderId: order(), items: [{ productId, quantity: 2 }] };
    const first = await api.allocate(direct, { 'idempotency-key': `direct-${productId}` });
    const again = await api.allocate(direct, { 'idempotency-key': `direct-${productId}` });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    const short = { orderId: order(), items: [{ productId, quantity: 5 }], allowBackorder: true };
    const backordered = await api.allocate(short, { 'idempotency-key': `short-${productId}` });
    const replayed = await api.allocate(short, { 'idempotency-key': `short-${productId}` });
    expect(backordered.statusCode).toBe(202);
    expect(replayed.statusCode).toBe(202);
    expect(replayed.json()).toEqual(backordered.json());
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 3, reserved: 0, allocated: 2 });
    const { rows } = await t.db.pool.query(`select count(*)::int as n from backorder_items where reference_id = $1`, [short.orderId]);
    expect(rows[0].n).toBe(1);
  });

  it('replays release, allocate and ship', async () => {
    const { productId, id } = await reserved(2);
    const steps = [
      ['allocate', () => api.allocate({ reservationId: id }, { 'idempotency-key': `alloc-${id}` })],
      ['ship', () => api.ship({ reservationId: id }, { 'idempotency-key': `ship-${id}` })],
    ] as const;
    for (const [, step] of steps) {
      const first = await step();
      const again = await step();
      expect(first.statusCode).toBe(200);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(first.json());
    }
    expect(await totalsOf(t.db.pool, productId)).toEqual({ quantity: 8, reserved: 0, allocated: 0 });
    const other = await reserved(1);
    const released = await api.release({ reservationId: other.id }, { 'idempotency-key': `rel-${other.id}` });
    const replayed = await api.release({ reservationId: other.id }, { 'idempotency-key': `rel-${other.id}` });
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json()).toEqual(released.json());
    expect(await lotsOf(t.db.pool, other.productId)).toEqual([expect.objectContaining({ reserved: 0 })]);
  });
});
