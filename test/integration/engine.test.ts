import { withTransaction } from '../../src/db/client';
import { commitWrites } from '../../src/db/writes';
import { serve as serveBatch, type EngineRequest } from '../../src/inventory/engine';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { serveAndCommit } from '../helpers/engine';
import { ledgerDifferences, lotsOf, receiveLots, reservationBookDifferences, seedCatalogue, totalsOf } from '../helpers/stock';

let db: TestDatabase;
const config = { RESERVATION_TIMEOUT_MINUTES: 30, RESERVATION_MAX_MINUTES: 120 };
const now = new Date('2030-01-01T12:00:00Z');
const day = 86_400_000;

beforeAll(async () => {
  db = await createTestDatabase('engine');
  await seedCatalogue(db.pool, {
    warehouses: [{ id: 'wh-a' }, { id: 'wh-b' }],
    products: ['order-p', 'race-p', 'partial-p', 'partial-q', 'back-p', 'unknown-q', 'alloc-p', 'batch-p', 'pin-p', 'cap-p', 'ghost-p', 'empty-p'],
  });
});
afterAll(async () => db.drop());

let keys = 0;
function request(lines: EngineRequest['lines'], overrides: Partial<EngineRequest> = {}): EngineRequest {
  keys += 1;
  return {
    key: `k-${keys}`,
    mode: 'reserve',
    lines,
    strategy: 'fifo',
    priority: 'medium',
    allowPartial: false,
    allowBackorder: false,
    owner: 'engine-test',
    orderId: `ord-${keys}`,
    referenceType: 'order',
    actor: 'engine-test',
    ...overrides,
  };
}

const serve = (requests: EngineRequest[]) => serveAndCommit(db.pool, requests, { now, config });

afterEach(async () => {
  expect(await ledgerDifferences(db.pool)).toEqual([]);
  expect(await reservationBookDifferences(db.pool)).toEqual([]);
});

describe('the engine (serve, then commitWrites)', () => {
  it('serves requests in the order given, each seeing what the earlier ones took', async () => {
    await receiveLots(db.pool, [{ productId: 'order-p', warehouseId: 'wh-a', quantity: 10 }]);
    const first = request([{ productId: 'order-p', quantity: 7 }]);
    const second = request([{ productId: 'order-p', quantity: 7 }]);
    const outcomes = await serve([second, first]);
    expect(outcomes.map((outcome) => [outcome.key, outcome.outcome])).toEqual([
      [second.key, 'complete'],
      [first.key, 'none'],
    ]);
    expect(outcomes[1]!.failedLines).toEqual([
      {
        lineIndex: 0,
        productId: 'order-p',
        requestedQuantity: 7,
        availableQuantity: 3,
        reason: 'insufficient_inventory',
        errorMessage: 'Only 3 available, 7 requested',
      },
    ]);
    expect(outcomes[1]!.reservation).toBeNull();
    expect(await totalsOf(db.pool, 'order-p')).toEqual({ quantity: 10, reserved: 7, allocated: 0 });
  });

  it('takes one lock of the lots for the whole batch and as many statements for 200 requests as for one', async () => {
    await receiveLots(db.pool, [
      { productId: 'batch-p', warehouseId: 'wh-a', quantity: 500 },
      { productId: 'batch-p', warehouseId: 'wh-b', quantity: 500 },
    ]);
    const statementsFor = async (count: number) => {
      const statements: string[] = [];
      const outcomes = await withTransaction(db.pool, async (tx) => {
        const counting = new Proxy(tx, {
          get(target, property, receiver) {
            if (property !== 'query') return Reflect.get(target, property, receiver);
            return (query: string | { text: string; values: unknown[] }, values?: unknown[]) => {
              statements.push(typeof query === 'string' ? query : query.text);
              return typeof query === 'string' ? target.query(query, values) : target.query(query);
            };
          },
        });
        const requests = Array.from({ length: count }, () => request([{ productId: 'batch-p', quantity: 2 }], { allowBackorder: true }));
        const served = await serveBatch(counting, requests, { now, config });
        await commitWrites(counting, served.writes);
        return served.outcomes;
      });
      expect(outcomes.every((outcome) => outcome.outcome === 'complete')).toBe(true);
      return statements;
    };
    // from the first batch on, the lots hold reserved units, so every batch also looks for lapsed holds to expire in line
    await statementsFor(1);
    const one = await statementsFor(1);
    const many = await statementsFor(200);
    expect(many.length).toBe(one.length);
    expect(many.filter((text) => /for update of i\b/i.test(text))).toHaveLength(1);
    // the batch plans against the lots as read without a lock, then locks them
    const lotReads = many.filter((text) => /from inventory_items i join warehouses w/i.test(text));
    expect(lotReads.map((text) => /for update of i\b/i.test(text))).toEqual([false, true]);
    // products in stock need no catalogue lookup: only the lot reads themselves read the catalogue (the partial index of discontinued products)
    const lookups = many.filter((text) => !lotReads.includes(text));
    expect(lookups.filter((text) => /\b(products|warehouses) p\b|from products|from warehouses/i.test(text))).toEqual([]);
    expect(await totalsOf(db.pool, 'batch-p')).toEqual({ quantity: 1000, reserved: 404, allocated: 0 });
  });

  it('plans again under the lock when the lots changed after it read them, never giving units another transaction took', async () => {
    await receiveLots(db.pool, [{ productId: 'race-p', warehouseId: 'wh-a', quantity: 10 }]);
    const late = request([{ productId: 'race-p', quantity: 5 }]);
    const outcomes = await withTransaction(db.pool, async (tx) => {
      // right after the batch read the lots without locking them, another transaction takes 8 of the 10 units and commits
      const racing = new Proxy(tx, {
        get(target, property, receiver) {
          if (property !== 'query') return Reflect.get(target, property, receiver);
          return async (query: string | { text: string; values: unknown[] }, values?: unknown[]) => {
            const text = typeof query === 'string' ? query : query.text;
            const result = await (typeof query === 'string' ? target.query(query, values) : target.query(query));
            if (/from inventory_items i join warehouses w/i.test(text) && !/for update of i\b/i.test(text)) {
              await serve([request([{ productId: 'race-p', quantity: 8 }])]);
            }
            return result;
          };
        },
      });
      const served = await serveBatch(racing, [late], { now, config });
      await commitWrites(tx, served.writes);
      return served.outcomes;
    });
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['none']);
    expect(outcomes[0]).toMatchObject({ failedLines: [{ requestedQuantity: 5, availableQuantity: 2, reason: 'insufficient_inventory' }] });
    expect(await totalsOf(db.pool, 'race-p')).toEqual({ quantity: 10, reserved: 8, allocated: 0 });
  });

  it('takes what it can for a partial request and nothing for an all-or-nothing one', async () => {
    await receiveLots(db.pool, [
      { productId: 'partial-p', warehouseId: 'wh-a', quantity: 5 },
      { productId: 'partial-q', warehouseId: 'wh-a', quantity: 2 },
    ]);
    const lines = [
      { productId: 'partial-p', quantity: 4 },
      { productId: 'partial-q', quantity: 3 },
    ];
    const [whole, partial] = await serve([request(lines), request(lines, { allowPartial: true })]);
    expect(whole).toMatchObject({ outcome: 'none', reservation: null, takes: [] });
    expect(whole!.failedLines.map((line) => [line.lineIndex, line.availableQuantity])).toEqual([[1, 2]]);
    expect(partial!.outcome).toBe('partial');
    expect(partial!.reservation).toMatchObject({
      status: 'RESERVED',
      expiresAt: new Date(now.getTime() + 30 * 60_000),
      items: [
        { productId: 'partial-p', warehouseId: 'wh-a', quantity: 4, reserved: true },
        { productId: 'partial-q', warehouseId: 'wh-a', quantity: 2, reserved: true },
      ],
    });
    expect(partial!.failedLines).toEqual([expect.objectContaining({ lineIndex: 1, requestedQuantity: 3, availableQuantity: 2 })]);
    expect(await totalsOf(db.pool, 'partial-p')).toMatchObject({ reserved: 4 });
    expect(await totalsOf(db.pool, 'partial-q')).toMatchObject({ reserved: 2 });
    const { rows } = await db.pool.query(
      `select type, reserved_delta, reference_id from inventory_transactions where reference_type = 'reservation' and reference_id = $1 order by id`,
      [partial!.reservation!.reservationId],
    );
    expect(rows.map((row) => [row.type, row.reserved_delta])).toEqual([
      ['RESERVE', 4],
      ['RESERVE', 2],
    ]);
  });

  it('backorders what a line missed, with the request priority, mode, strategy and reservation', async () => {
    await receiveLots(db.pool, [{ productId: 'back-p', warehouseId: 'wh-a', quantity: 3 }]);
    const partial = request([{ productId: 'back-p', quantity: 5 }], { allowPartial: true, allowBackorder: true, priority: 'high', strategy: 'lifo' });
    const whole = request([{ productId: 'back-p', quantity: 2, warehouseId: 'wh-b' }], { allowBackorder: true, mode: 'allocate', reservationMinutes: 500 });
    const [first, second] = await serve([partial, whole]);
    expect(first!.backorders).toEqual([{ id: expect.any(String), productId: 'back-p', warehouseId: null, quantity: 2 }]);
    expect(second!.outcome).toBe('none');
    expect(second!.backorders).toEqual([{ id: expect.any(String), productId: 'back-p', warehouseId: 'wh-b', quantity: 2 }]);
    const { rows } = await db.pool.query(
      `select id, quantity, status, mode, priority, strategy, reservation_id, reference_type, reference_id, reservation_minutes
         from backorder_items where product_id = 'back-p' order by priority desc`,
    );
    expect(rows).toEqual([
      {
        id: first!.backorders[0]!.id,
        quantity: 2,
        status: 'OPEN',
        mode: 'reserve',
        priority: 'high',
        strategy: 'lifo',
        reservation_id: first!.reservation!.reservationId,
        reference_type: 'order',
        reference_id: partial.orderId,
        reservation_minutes: 30,
      },
      {
        id: second!.backorders[0]!.id,
        quantity: 2,
        status: 'OPEN',
        mode: 'allocate',
        priority: 'medium',
        strategy: 'fifo',
        reservation_id: null,
        reference_type: 'order',
        reference_id: whole.orderId,
        reservation_minutes: 120,
      },
    ]);
  });

  it('names unknown products, takes nothing for an all-or-nothing request with one, and backorders only known products', async () => {
    await receiveLots(db.pool, [{ productId: 'unknown-q', warehouseId: 'wh-a', quantity: 10 }]);
    const lines = [
      { productId: 'unknown-q', quantity: 1 },
      { productId: 'no-such-product', quantity: 1 },
    ];
    const [whole, partial] = await serve([request(lines, { allowBackorder: true }), request(lines, { allowPartial: true, allowBackorder: true })]);
    for (const outcome of [whole!, partial!]) {
      expect(outcome.failedLines).toEqual([
        {
          lineIndex: 1,
          productId: 'no-such-product',
          requestedQuantity: 1,
          availableQuantity: 0,
          reason: 'unknown_product',
          errorMessage: expect.stringContaining('no-such-product'),
        },
      ]);
    }
    expect(whole).toMatchObject({ outcome: 'none', takes: [] });
    expect(whole!.backorders.map((backorder) => backorder.productId)).toEqual(['unknown-q']);
    expect(partial).toMatchObject({ outcome: 'partial', backorders: [] });
    expect(await totalsOf(db.pool, 'unknown-q')).toMatchObject({ reserved: 1 });
  });

  it('serves the rest of a batch when a line is pinned to a warehouse that does not exist, and backorders none of it', async () => {
    await receiveLots(db.pool, [{ productId: 'ghost-p', warehouseId: 'wh-b', quantity: 4 }]);
    const [lost, fine] = await serve([
      request([{ productId: 'ghost-p', quantity: 1, warehouseId: 'wh-nowhere' }], { allowBackorder: true }),
      request([{ productId: 'ghost-p', quantity: 2, warehouseId: 'wh-b' }]),
    ]);
    expect(lost).toMatchObject({ outcome: 'none', backorders: [] });
    expect(lost!.failedLines).toEqual([expect.objectContaining({ availableQuantity: 0, errorMessage: 'Warehouse wh-nowhere does not exist' })]);
    expect(fine!.outcome).toBe('complete');
  });

  it('tells a product without lots and a warehouse without its lots from ones that do not exist', async () => {
    await receiveLots(db.pool, [{ productId: 'ghost-p', warehouseId: 'wh-b', quantity: 1 }]);
    const [empty, elsewhere] = await serve([
      request([{ productId: 'empty-p', quantity: 1 }], { allowBackorder: true }),
      request([{ productId: 'ghost-p', quantity: 1, warehouseId: 'wh-a' }], { allowBackorder: true }),
    ]);
    expect(empty!.failedLines).toEqual([expect.objectContaining({ reason: 'insufficient_inventory', errorMessage: 'Only 0 available, 1 requested' })]);
    expect(empty!.backorders).toEqual([expect.objectContaining({ productId: 'empty-p', quantity: 1 })]);
    expect(elsewhere!.failedLines).toEqual([expect.objectContaining({ reason: 'insufficient_inventory', errorMessage: 'Only 0 available, 1 requested' })]);
    expect(elsewhere!.backorders).toEqual([expect.objectContaining({ productId: 'ghost-p', warehouseId: 'wh-a', quantity: 1 })]);
  });

  it('commits stock directly in allocate mode and records the reservation as ALLOCATED with its history', async () => {
    const [lotId] = await receiveLots(db.pool, [{ productId: 'alloc-p', warehouseId: 'wh-a', quantity: 8, lotNumber: 'L-8' }]);
    const [outcome] = await serve([request([{ productId: 'alloc-p', quantity: 6 }], { mode: 'allocate' })]);
    expect(outcome!.reservation).toMatchObject({ status: 'ALLOCATED', items: [{ lots: [{ lotId, lotNumber: 'L-8', quantity: 6 }] }] });
    expect(await lotsOf(db.pool, 'alloc-p')).toEqual([{ id: lotId, quantity: 8, reserved: 0, allocated: 6 }]);
    const history = await db.pool.query(`select from_status, to_status, actor from reservation_status_history where reservation_id = $1`, [
      outcome!.reservation!.reservationId,
    ]);
    expect(history.rows).toEqual([{ from_status: null, to_status: 'ALLOCATED', actor: 'engine-test' }]);
    const lines = await db.pool.query(`select quantity, allocated_quantity from reservation_lines where reservation_id = $1`, [
      outcome!.reservation!.reservationId,
    ]);
    expect(lines.rows).toEqual([{ quantity: 6, allocated_quantity: 6 }]);
  });

  it('keeps a pinned line to its warehouse and never serves from expired lots', async () => {
    await receiveLots(db.pool, [
      { productId: 'pin-p', warehouseId: 'wh-a', quantity: 5, receivedAt: new Date(now.getTime() - 3 * day) },
      { productId: 'pin-p', warehouseId: 'wh-b', quantity: 5, receivedAt: new Date(now.getTime() - 2 * day), expiresAt: now },
      { productId: 'pin-p', warehouseId: 'wh-b', quantity: 2, receivedAt: new Date(now.getTime() - 1 * day) },
    ]);
    const [pinned] = await serve([request([{ productId: 'pin-p', quantity: 3, warehouseId: 'wh-b' }], { allowPartial: true })]);
    expect(pinned!.takes.map((take) => [take.warehouseId, take.quantity])).toEqual([['wh-b', 2]]);
    expect(pinned!.failedLines[0]).toMatchObject({ availableQuantity: 2 });
  });

  it('caps the hold at RESERVATION_MAX_MINUTES', async () => {
    await receiveLots(db.pool, [{ productId: 'cap-p', warehouseId: 'wh-a', quantity: 1 }]);
    const [outcome] = await serve([request([{ productId: 'cap-p', quantity: 1 }], { reservationMinutes: 10_000 })]);
    expect(outcome!.reservation!.expiresAt).toEqual(new Date(now.getTime() + 120 * 60_000));
  });
});
