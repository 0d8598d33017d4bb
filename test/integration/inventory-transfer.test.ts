import { withTransaction } from '../../src/db/client';
import { findLedgerDifferences } from '../../src/db/lot-store';
import { commitWrites } from '../../src/db/writes';
import { receiveTransfer } from '../../src/inventory/transfers/transfer';
import { startTestApp, type TestApp } from '../helpers/app';
import { admin, lotState, receive, seedCatalogue, service, stockSnapshot } from '../helpers/inventory';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('inventory-transfer');
  await seedCatalogue(t, { warehouses: ['wh-src', 'wh-dst'], products: ['p-move', 'p-other', 'p-short', 'p-named', 'p-idem', 'p-race', 'p-closing', 'p-use'] });
  const closing = await t.app.inject({
    method: 'POST',
    url: '/api/v1/warehouses',
    headers: admin,
    payload: { id: 'wh-closing', code: 'CLOSING', name: 'Closing', active: false },
  });
  expect(closing.statusCode).toBe(201);
});
afterAll(async () => t.close());

const transfer = (payload: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/api/v1/inventory/transfer', headers: { ...admin, ...headers }, payload });
const receiveIt = (id: string, headers: Record<string, string> = admin) =>
  t.app.inject({ method: 'POST', url: `/api/v1/inventory/transfers/${id}/receive`, headers });
const getTransfer = (id: string) => t.app.inject({ method: 'GET', url: `/api/v1/inventory/transfers/${id}`, headers: service });
const availableAt = async (productId: string, warehouseId: string) => {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/inventory/check-availability',
    headers: service,
    payload: { items: [{ productId, quantity: 1, warehouseId }] },
  });
  return response.json().items[0].availableQuantity as number;
};

describe('a transfer from sending to receiving', () => {
  let oldest: string;
  let older: string;
  let newer: string;
  let transferId: string;

  beforeAll(async () => {
    oldest = await receive(t, 'p-move', 'wh-src', 4, { receivedAt: '2023-06-01T00:00:00Z', expiresAt: '2024-01-01T00:00:00Z', lotNumber: 'EXPIRED' });
    older = await receive(t, 'p-move', 'wh-src', 5, { receivedAt: '2024-01-01T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z', lotNumber: 'A', unitCost: 1.25 });
    newer = await receive(t, 'p-move', 'wh-src', 10, { receivedAt: '2024-03-01T00:00:00Z', lotNumber: 'B', unitCost: 2 });
    await receive(t, 'p-other', 'wh-src', 6, { receivedAt: '2024-02-01T00:00:00Z' });
    await withTransaction(t.db.pool, (tx) => commitWrites(tx, { movements: [{ lotId: newer, type: 'RESERVE', reservedDelta: 3, actor: 'test' }] }));
  });

  it('takes available units from the source at once, oldest unexpired lot first, one line per source lot: 201 IN_TRANSIT', async () => {
    const response = await transfer({
      fromWarehouseId: 'wh-src',
      toWarehouseId: 'wh-dst',
      items: [
        { productId: 'p-move', quantity: 10 },
        { productId: 'p-other', quantity: 6 },
      ],
      reference: 'REBALANCE-1',
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    transferId = body.transferId;
    expect(body).toMatchObject({
      status: 'IN_TRANSIT',
      fromWarehouseId: 'wh-src',
      toWarehouseId: 'wh-dst',
      reference: 'REBALANCE-1',
      initiatedBy: 'ops-1',
      receivedAt: null,
      totalQuantity: 16,
      items: [
        { productId: 'p-move', quantity: 10 },
        { productId: 'p-other', quantity: 6 },
      ],
    });
    expect(body.lines).toEqual([
      expect.objectContaining({
        productId: 'p-move',
        sourceLotId: older,
        quantity: 5,
        lotNumber: 'A',
        unitCost: 1.25,
        receivedAt: '2024-01-01T00:00:00.000Z',
        expiresAt: '2999-01-01T00:00:00.000Z',
        destinationLotId: null,
      }),
      expect.objectContaining({
        productId: 'p-move',
        sourceLotId: newer,
        quantity: 5,
        lotNumber: 'B',
        unitCost: 2,
        receivedAt: '2024-03-01T00:00:00.000Z',
        expiresAt: null,
      }),
      expect.objectContaining({ productId: 'p-other', quantity: 6 }),
    ]);

    expect(await lotState(t.db.pool, oldest)).toMatchObject({ quantity: 4 });
    expect(await lotState(t.db.pool, older)).toMatchObject({ quantity: 0 });
    expect(await lotState(t.db.pool, newer)).toMatchObject({ quantity: 5, reserved: 3 });
    expect(await availableAt('p-move', 'wh-src')).toBe(2);
    expect(await availableAt('p-move', 'wh-dst')).toBe(0);

    const { rows } = await t.db.pool.query(
      `select lot_id as "lotId", quantity_delta as "quantityDelta", reference_type as "referenceType", reference_id as "referenceId", actor
         from inventory_transactions where type = 'TRANSFER_OUT' and product_id = 'p-move' order by id`,
    );
    expect(rows).toEqual([
      { lotId: older, quantityDelta: -5, referenceType: 'transfer', referenceId: transferId, actor: 'ops-1' },
      { lotId: newer, quantityDelta: -5, referenceType: 'transfer', referenceId: transferId, actor: 'ops-1' },
    ]);
  });

  it('shows the transfer in transit', async () => {
    const response = await getTransfer(transferId);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ transferId, status: 'IN_TRANSIT', totalQuantity: 16 });
  });

  it('receives each line as a new lot at the destination keeping its number, age, expiry and cost', async () => {
    const response = await receiveIt(transferId);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ transferId, status: 'RECEIVED', receivedAt: expect.stringMatching(/Z$/) });
    const [first, second] = body.lines;
    expect(first.destinationLotId).toEqual(expect.any(String));
    expect(first.destinationLotId).not.toBe(older);
    expect(await lotState(t.db.pool, first.destinationLotId)).toEqual({
      quantity: 5,
      reserved: 0,
      allocated: 0,
      version: 1,
      receivedAt: new Date('2024-01-01T00:00:00Z'),
      expiresAt: new Date('2999-01-01T00:00:00Z'),
      unitCost: 1.25,
      lotNumber: 'A',
      warehouseId: 'wh-dst',
    });
    expect(await lotState(t.db.pool, second.destinationLotId)).toMatchObject({
      quantity: 5,
      receivedAt: new Date('2024-03-01T00:00:00Z'),
      expiresAt: null,
      lotNumber: 'B',
    });
    expect(await availableAt('p-move', 'wh-dst')).toBe(10);
    expect(await availableAt('p-other', 'wh-dst')).toBe(6);

    const { rows } = await t.db.pool.query(
      `select lot_id as "lotId", quantity_delta as "quantityDelta", reference_id as "referenceId" from inventory_transactions where type = 'TRANSFER_IN' order by id`,
    );
    expect(rows).toEqual(
      body.lines.map((line: { destinationLotId: string; quantity: number }) => ({
        lotId: line.destinationLotId,
        quantityDelta: line.quantity,
        referenceId: transferId,
      })),
    );
    expect((await getTransfer(transferId)).json()).toMatchObject({ status: 'RECEIVED', lines: body.lines });
  });

  it('refuses to receive it twice with 409 INVALID_TRANSITION naming its status, and changes nothing', async () => {
    const before = await stockSnapshot(t.db.pool);
    const response = await receiveIt(transferId);
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'INVALID_TRANSITION', details: { status: 'RECEIVED' } });
    expect(response.json().error.message).toContain('RECEIVED');
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('leaves every lot equal to the sum of its ledger rows', async () => {
    expect((await findLedgerDifferences(t.db.pool)).differences).toEqual([]);
  });
});

describe('transfers: refusals', () => {
  it('refuses a transfer the source cannot fill with 409 INSUFFICIENT_STOCK, counting only available units, and changes nothing', async () => {
    const lot = await receive(t, 'p-short', 'wh-src', 10);
    await withTransaction(t.db.pool, (tx) => commitWrites(tx, { movements: [{ lotId: lot, type: 'RESERVE', reservedDelta: 7, actor: 'test' }] }));
    await receive(t, 'p-other', 'wh-src', 1);
    const before = await stockSnapshot(t.db.pool);
    const response = await transfer({
      fromWarehouseId: 'wh-src',
      toWarehouseId: 'wh-dst',
      items: [
        { productId: 'p-other', quantity: 1 },
        { productId: 'p-short', quantity: 4 },
      ],
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { shortages: [{ item: 1, productId: 'p-short', requested: 4, available: 3 }] },
    });
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it.each([
    ['the same warehouse twice', { fromWarehouseId: 'wh-src', toWarehouseId: 'wh-src', items: [{ productId: 'p-short', quantity: 1 }] }],
    ['no items', { fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [] }],
    ['a zero quantity', { fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-short', quantity: 0 }] }],
    ['a huge quantity', { fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-short', quantity: 1_000_001 }] }],
    ['an unknown field', { fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-short', quantity: 1 }], priority: 'high' }],
    ['a missing destination', { fromWarehouseId: 'wh-src', items: [{ productId: 'p-short', quantity: 1 }] }],
  ])('answers 400 to %s and changes nothing', async (_name, payload) => {
    const before = await stockSnapshot(t.db.pool);
    const response = await transfer(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('VALIDATION_FAILED');
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('answers 400 UNKNOWN_REFERENCE to an unknown warehouse or product', async () => {
    const response = await transfer({ fromWarehouseId: 'wh-src', toWarehouseId: 'wh-nope', items: [{ productId: 'p-nope', quantity: 1 }] });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknownProducts: ['p-nope'], unknownWarehouses: ['wh-nope'] } });
  });

  it('answers 404 to an unknown transfer and 400 to a malformed id', async () => {
    const unknown = '01890a5d-ac96-774b-bcce-b302099a8057';
    expect((await getTransfer(unknown)).statusCode).toBe(404);
    expect((await receiveIt(unknown)).statusCode).toBe(404);
    expect((await getTransfer('tr-1')).statusCode).toBe(400);
  });

  it('answers 403 to a service caller sending or receiving', async () => {
    const before = await stockSnapshot(t.db.pool);
    const response = await transfer({ fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-short', quantity: 1 }] }, service);
    expect(response.statusCode).toBe(403);
    expect((await receiveIt('01890a5d-ac96-774b-bcce-b302099a8057', service)).statusCode).toBe(403);
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });
});

describe('transfers: lots, warehouses, repeats and races', () => {
  it('moves from the named lot only when an item names one', async () => {
    const older = await receive(t, 'p-named', 'wh-src', 5, { receivedAt: '2024-01-01T00:00:00Z' });
    const newer = await receive(t, 'p-named', 'wh-src', 5, { receivedAt: '2024-02-01T00:00:00Z' });
    const response = await transfer({ fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-named', quantity: 2, lotId: newer }] });
    expect(response.statusCode).toBe(201);
    expect(response.json().lines).toEqual([expect.objectContaining({ sourceLotId: newer, quantity: 2 })]);
    expect(await lotState(t.db.pool, older)).toMatchObject({ quantity: 5 });

    const wrongPlace = await transfer({ fromWarehouseId: 'wh-dst', toWarehouseId: 'wh-src', items: [{ productId: 'p-named', quantity: 1, lotId: older }] });
    expect(wrongPlace.statusCode).toBe(400);
    expect(wrongPlace.json().error).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknownLots: [{ item: 0, lotId: older }] } });
  });

  it('moves stock out of an inactive warehouse, so a closing site can be emptied', async () => {
    await receive(t, 'p-closing', 'wh-closing', 7);
    const response = await transfer({ fromWarehouseId: 'wh-closing', toWarehouseId: 'wh-dst', items: [{ productId: 'p-closing', quantity: 7 }] });
    expect(response.statusCode).toBe(201);
    expect((await receiveIt(response.json().transferId)).statusCode).toBe(200);
    expect(await availableAt('p-closing', 'wh-dst')).toBe(7);
  });

  it('replays the first answer to a repeat with the same Idempotency-Key, sending once; 422 with another body', async () => {
    await receive(t, 'p-idem', 'wh-src', 10);
    const payload = { fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-idem', quantity: 4 }] };
    const first = await transfer(payload, { 'idempotency-key': 'move-1' });
    const again = await transfer(payload, { 'idempotency-key': 'move-1' });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(await availableAt('p-idem', 'wh-src')).toBe(6);

    const other = await transfer({ ...payload, items: [{ productId: 'p-idem', quantity: 5 }] }, { 'idempotency-key': 'move-1' });
    expect(other.statusCode).toBe(422);
    expect(await availableAt('p-idem', 'wh-src')).toBe(6);
  });

  it('of two concurrent receives exactly one succeeds; the stock arrives once', async () => {
    await receive(t, 'p-race', 'wh-src', 10);
    const sent = await transfer({ fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-race', quantity: 10 }] });
    const results = await Promise.all([receiveIt(sent.json().transferId), receiveIt(sent.json().transferId)]);
    expect(results.map((response) => response.statusCode).sort()).toEqual([200, 409]);
    expect(await availableAt('p-race', 'wh-dst')).toBe(10);
    expect((await findLedgerDifferences(t.db.pool)).differences).toEqual([]);
  });

  it('receiveTransfer reports the products that arrived, so later work in the same transaction can serve them', async () => {
    await receive(t, 'p-use', 'wh-src', 3);
    const sent = await transfer({ fromWarehouseId: 'wh-src', toWarehouseId: 'wh-dst', items: [{ productId: 'p-use', quantity: 3 }] });
    const outcome = await withTransaction(t.db.pool, (tx) => receiveTransfer(tx, sent.json().transferId, undefined, 'ops-2'));
    expect(outcome.replenishedProductIds).toEqual(['p-use']);
    expect(outcome.answer.status).toBe('RECEIVED');
  });
});
