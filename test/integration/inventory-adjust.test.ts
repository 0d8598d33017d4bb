import { reconcile } from '../../src/cli/reconcile';
import { withTransaction } from '../../src/db/client';
import { findLedgerDifferences } from '../../src/db/lot-store';
import { commitWrites } from '../../src/db/writes';
import { adjustStock } from '../../src/inventory/stock/adjust';
import { startTestApp, type TestApp } from '../helpers/app';
import { adjust, admin, lotState, receive, seedCatalogue, service, stockSnapshot } from '../helpers/inventory';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('inventory-adjust');
  await seedCatalogue(t, {
    warehouses: ['wh-1', 'wh-2'],
    products: ['p-receipt', 'p-fifo', 'p-lot', 'p-return', 'p-adjust', 'p-order', 'p-short', 'p-held', 'p-version', 'p-race', 'p-bad', 'p-idem', 'p-use'],
  });
});
afterAll(async () => t.close());

async function ledgerOf(productId: string) {
  const { rows } = await t.db.pool.query(
    `select lot_id as "lotId", type, quantity_delta as "quantityDelta", quantity_after as "quantityAfter", reason,
            reference_type as "referenceType", reference_id as "referenceId", actor
       from inventory_transactions where product_id = $1 order by id`,
    [productId],
  );
  return rows;
}

async function reserve(lotId: string, quantity: number) {
  await withTransaction(t.db.pool, (tx) => commitWrites(tx, { movements: [{ lotId, type: 'RESERVE', reservedDelta: quantity, actor: 'test' }] }));
}

describe('PUT /inventory/adjust: each type and its ledger rows', () => {
  it('a RECEIPT creates a lot that keeps its lot number, cost, expiry and age, with one RECEIPT row in the ledger', async () => {
    const response = await adjust(t, [
      {
        productId: 'p-receipt',
        warehouseId: 'wh-1',
        quantity: 40,
        type: 'RECEIPT',
        reason: 'New shipment received',
        reference: 'PO-12345',
        lotNumber: 'L-001',
        unitCost: 2.5,
        expiresAt: '2031-01-01T00:00:00.000Z',
        receivedAt: '2020-03-01T08:00:00.000Z',
        binLocation: 'A-12-B3',
      },
    ]);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      status: 'COMPLETED',
      adjustedBy: 'ops-1',
      adjustments: [
        { productId: 'p-receipt', warehouseId: 'wh-1', type: 'RECEIPT', reference: 'PO-12345', previousQuantity: 0, adjustedQuantity: 40, newQuantity: 40 },
      ],
    });
    const lotId = body.adjustments[0].movements[0].lotId;
    expect(body.lots).toEqual([
      {
        lotId,
        productId: 'p-receipt',
        warehouseId: 'wh-1',
        lotNumber: 'L-001',
        binLocation: 'A-12-B3',
        quantity: 40,
        reservedQuantity: 0,
        allocatedQuantity: 0,
        availableQuantity: 40,
        receivedAt: '2020-03-01T08:00:00.000Z',
        expiresAt: '2031-01-01T00:00:00.000Z',
        unitCost: 2.5,
        version: 1,
      },
    ]);
    expect(await ledgerOf('p-receipt')).toEqual([
      {
        lotId,
        type: 'RECEIPT',
        quantityDelta: 40,
        quantityAfter: 40,
        reason: 'New shipment received',
        referenceType: 'adjustment',
        referenceId: 'PO-12345',
        actor: 'ops-1',
      },
    ]);
  });

  it('a RECEIPT without receivedAt is received now, and without a reference its rows carry the adjustment id', async () => {
    const before = Date.now();
    const response = await adjust(t, [{ productId: 'p-receipt', warehouseId: 'wh-2', quantity: 5, type: 'RECEIPT', reason: 'count' }]);
    const body = response.json();
    const receivedAt = Date.parse(body.lots[0].receivedAt);
    expect(receivedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(receivedAt).toBeLessThanOrEqual(Date.now() + 1000);
    expect(body.adjustments[0].reference).toBe(body.adjustmentId);
    const rows = await ledgerOf('p-receipt');
    expect(rows.at(-1)).toMatchObject({ referenceType: 'adjustment', referenceId: body.adjustmentId });
  });

  it('SHIPMENT and WRITE_OFF take available units oldest lot first', async () => {
    const newer = await receive(t, 'p-fifo', 'wh-1', 10, { receivedAt: '2024-02-01T00:00:00Z' });
    const older = await receive(t, 'p-fifo', 'wh-1', 10, { receivedAt: '2024-01-01T00:00:00Z' });
    const elsewhere = await receive(t, 'p-fifo', 'wh-2', 10, { receivedAt: '2023-01-01T00:00:00Z' });

    const shipped = await adjust(t, [{ productId: 'p-fifo', warehouseId: 'wh-1', quantity: 14, type: 'SHIPMENT', reason: 'sold by phone' }]);
    expect(shipped.statusCode).toBe(200);
    expect(shipped.json().adjustments[0]).toMatchObject({
      previousQuantity: 20,
      adjustedQuantity: -14,
      newQuantity: 6,
      movements: [
        { lotId: older, quantityDelta: -10 },
        { lotId: newer, quantityDelta: -4 },
      ],
    });

    const writtenOff = await adjust(t, [{ productId: 'p-fifo', warehouseId: 'wh-1', quantity: 2, type: 'WRITE_OFF', reason: 'damaged' }]);
    expect(writtenOff.json().adjustments[0].movements).toEqual([{ movementId: expect.any(Number), lotId: newer, quantityDelta: -2 }]);

    expect((await lotState(t.db.pool, older)).quantity).toBe(0);
    expect((await lotState(t.db.pool, newer)).quantity).toBe(4);
    expect((await lotState(t.db.pool, elsewhere)).quantity).toBe(10);
    expect((await ledgerOf('p-fifo')).map((row) => [row.type, row.quantityDelta])).toEqual([
      ['RECEIPT', 10],
      ['RECEIPT', 10],
      ['RECEIPT', 10],
      ['SHIPMENT', -10],
      ['SHIPMENT', -4],
      ['WRITE_OFF', -2],
    ]);
  });

  it('a named lotId takes from that lot only, even when older lots exist', async () => {
    const older = await receive(t, 'p-lot', 'wh-1', 10, { receivedAt: '2024-01-01T00:00:00Z' });
    const newer = await receive(t, 'p-lot', 'wh-1', 10, { receivedAt: '2024-02-01T00:00:00Z' });
    const response = await adjust(t, [{ productId: 'p-lot', warehouseId: 'wh-1', quantity: 3, type: 'SHIPMENT', reason: 'from B', lotId: newer }]);
    expect(response.statusCode).toBe(200);
    expect((await lotState(t.db.pool, older)).quantity).toBe(10);
    expect((await lotState(t.db.pool, newer)).quantity).toBe(7);

    const tooMuch = await adjust(t, [{ productId: 'p-lot', warehouseId: 'wh-1', quantity: 8, type: 'WRITE_OFF', reason: 'x', lotId: newer }]);
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json().error.details.shortages).toEqual([{ line: 0, productId: 'p-lot', warehouseId: 'wh-1', lotId: newer, requested: 8, available: 7 }]);
  });

  it('a RETURN adds to the named lot, or creates a new lot like a receipt', async () => {
    const lot = await receive(t, 'p-return', 'wh-1', 10);
    const response = await adjust(t, [
      { productId: 'p-return', warehouseId: 'wh-1', quantity: 2, type: 'RETURN', reason: 'customer return', lotId: lot },
      { productId: 'p-return', warehouseId: 'wh-1', quantity: 3, type: 'RETURN', reason: 'unknown origin', lotNumber: 'RET-1', unitCost: 1.25 },
    ]);
    expect(response.statusCode).toBe(200);
    const [intoLot, newLot] = response.json().adjustments;
    expect(intoLot.movements).toEqual([{ movementId: expect.any(Number), lotId: lot, quantityDelta: 2 }]);
    expect(newLot.movements[0].lotId).not.toBe(lot);
    expect(newLot).toMatchObject({ previousQuantity: 12, newQuantity: 15 });
    expect(await lotState(t.db.pool, lot)).toMatchObject({ quantity: 12 });
    expect(await lotState(t.db.pool, newLot.movements[0].lotId)).toMatchObject({ quantity: 3, lotNumber: 'RET-1', unitCost: 1.25 });
    expect((await ledgerOf('p-return')).map((row) => row.type)).toEqual(['RECEIPT', 'RETURN', 'RETURN']);
  });

  it('an ADJUSTMENT creates a lot when there is none, adds to the newest lot, and takes oldest first when negative', async () => {
    const created = await adjust(t, [{ productId: 'p-adjust', warehouseId: 'wh-1', quantity: 4, type: 'ADJUSTMENT', reason: 'found in a corner' }]);
    expect(created.statusCode).toBe(200);
    const firstLot = created.json().adjustments[0].movements[0].lotId;
    const newest = await receive(t, 'p-adjust', 'wh-1', 10, { receivedAt: '2999-01-01T00:00:00Z' });

    const plus = await adjust(t, [{ productId: 'p-adjust', warehouseId: 'wh-1', quantity: 5, type: 'ADJUSTMENT', reason: 'recount' }]);
    expect(plus.json().adjustments[0].movements).toEqual([{ movementId: expect.any(Number), lotId: newest, quantityDelta: 5 }]);

    const minus = await adjust(t, [{ productId: 'p-adjust', warehouseId: 'wh-1', quantity: -6, type: 'ADJUSTMENT', reason: 'recount' }]);
    expect(minus.json().adjustments[0]).toMatchObject({
      previousQuantity: 19,
      adjustedQuantity: -6,
      newQuantity: 13,
      movements: [
        { lotId: firstLot, quantityDelta: -4 },
        { lotId: newest, quantityDelta: -2 },
      ],
    });
    expect((await ledgerOf('p-adjust')).map((row) => [row.type, row.quantityDelta])).toEqual([
      ['ADJUSTMENT', 4],
      ['RECEIPT', 10],
      ['ADJUSTMENT', 5],
      ['ADJUSTMENT', -4],
      ['ADJUSTMENT', -2],
    ]);
  });

  it('runs lines in order: a shipment may take what a receipt above it brought', async () => {
    const response = await adjust(t, [
      { productId: 'p-order', warehouseId: 'wh-1', quantity: 8, type: 'RECEIPT', reason: 'delivery' },
      { productId: 'p-order', warehouseId: 'wh-1', quantity: 3, type: 'SHIPMENT', reason: 'sold' },
    ]);
    expect(response.statusCode).toBe(200);
    const [receipt, shipment] = response.json().adjustments;
    expect(shipment.movements[0].lotId).toBe(receipt.movements[0].lotId);
    expect(response.json().lots).toEqual([expect.objectContaining({ quantity: 5, version: 1 })]);
  });

  it('leaves every lot equal to the sum of its ledger rows', async () => {
    expect((await findLedgerDifferences(t.db.pool)).differences).toEqual([]);
    const lines: string[] = [];
    expect(await reconcile(t.db.pool, (line) => lines.push(line))).toBe(true);
    expect(lines).toEqual([
      expect.stringMatching(/^reconciled: \d+ lots match the ledger$/),
      expect.stringMatching(/^reconciled: \d+ serial-tracked lots match their units$/),
    ]);
  });
});

describe('PUT /inventory/adjust: all or nothing', () => {
  it('refuses the whole request with 409 INSUFFICIENT_STOCK naming each short line, and changes nothing', async () => {
    await receive(t, 'p-short', 'wh-1', 5);
    const before = await stockSnapshot(t.db.pool);
    const response = await adjust(t, [
      { productId: 'p-short', warehouseId: 'wh-1', quantity: 100, type: 'RECEIPT', reason: 'delivery' },
      { productId: 'p-short', warehouseId: 'wh-1', quantity: 1, type: 'SHIPMENT', reason: 'ok line' },
      { productId: 'p-short', warehouseId: 'wh-2', quantity: 2, type: 'SHIPMENT', reason: 'nothing there' },
      { productId: 'p-short', warehouseId: 'wh-1', quantity: -500, type: 'ADJUSTMENT', reason: 'too much' },
    ]);
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: {
        shortages: [
          { line: 2, productId: 'p-short', warehouseId: 'wh-2', requested: 2, available: 0 },
          { line: 3, productId: 'p-short', warehouseId: 'wh-1', requested: 500, available: 104 },
        ],
      },
    });
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('never takes reserved or allocated units, whether from any lot or a named one', async () => {
    const lotId = await receive(t, 'p-held', 'wh-1', 10);
    await reserve(lotId, 6);
    await withTransaction(t.db.pool, (tx) =>
      commitWrites(tx, { movements: [{ lotId, type: 'ALLOCATE', reservedDelta: -2, allocatedDelta: 2, actor: 'test' }] }),
    );
    const before = await stockSnapshot(t.db.pool);

    for (const line of [
      { productId: 'p-held', warehouseId: 'wh-1', quantity: 5, type: 'SHIPMENT', reason: 'x' },
      { productId: 'p-held', warehouseId: 'wh-1', quantity: 5, type: 'WRITE_OFF', reason: 'x', lotId },
      { productId: 'p-held', warehouseId: 'wh-1', quantity: -5, type: 'ADJUSTMENT', reason: 'x' },
    ]) {
      const refused = await adjust(t, [line]);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.details.shortages[0]).toMatchObject({ requested: 5, available: 4 });
    }
    expect(await stockSnapshot(t.db.pool)).toEqual(before);

    const taken = await adjust(t, [{ productId: 'p-held', warehouseId: 'wh-1', quantity: 4, type: 'WRITE_OFF', reason: 'broken' }]);
    expect(taken.statusCode).toBe(200);
    expect(await lotState(t.db.pool, lotId)).toMatchObject({ quantity: 6, reserved: 4, allocated: 2 });
  });
});

describe('PUT /inventory/adjust: expected versions', () => {
  it('a stale version gets 409 VERSION_CONFLICT and changes nothing; the current one succeeds', async () => {
    const lotId = await receive(t, 'p-version', 'wh-1', 10);
    const { version } = await lotState(t.db.pool, lotId);
    await adjust(t, [{ productId: 'p-version', warehouseId: 'wh-1', quantity: 1, type: 'SHIPMENT', reason: 'meanwhile' }]);
    const before = await stockSnapshot(t.db.pool);

    const stale = await adjust(t, [
      { productId: 'p-version', warehouseId: 'wh-1', quantity: 5, type: 'RECEIPT', reason: 'other line' },
      { productId: 'p-version', warehouseId: 'wh-1', quantity: -2, type: 'ADJUSTMENT', reason: 'recount', lotId, version },
    ]);
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error).toMatchObject({
      code: 'VERSION_CONFLICT',
      details: { conflicts: [{ line: 1, lotId, expectedVersion: version, actualVersion: version + 1 }] },
    });
    expect(await stockSnapshot(t.db.pool)).toEqual(before);

    const current = await adjust(t, [
      { productId: 'p-version', warehouseId: 'wh-1', quantity: -2, type: 'ADJUSTMENT', reason: 'recount', lotId, version: version + 1 },
    ]);
    expect(current.statusCode).toBe(200);
    expect(current.json().lots[0]).toMatchObject({ lotId, quantity: 7, version: version + 2 });
  });

  it('of two concurrent adjustments with the same version exactly one wins; the other changes nothing', async () => {
    const lotId = await receive(t, 'p-race', 'wh-1', 50);
    const { version } = await lotState(t.db.pool, lotId);
    const results = await Promise.all(
      [-10, -20].map((quantity) => adjust(t, [{ productId: 'p-race', warehouseId: 'wh-1', quantity, type: 'ADJUSTMENT', reason: 'race', lotId, version }])),
    );
    const statuses = results.map((response) => response.statusCode).sort();
    expect(statuses).toEqual([200, 409]);
    const winner = results.find((response) => response.statusCode === 200)!;
    const loser = results.find((response) => response.statusCode === 409)!;
    expect(loser.json().error.code).toBe('VERSION_CONFLICT');
    const state = await lotState(t.db.pool, lotId);
    expect(state).toMatchObject({ quantity: 50 + winner.json().adjustments[0].adjustedQuantity, version: version + 1 });
    const { rows } = await t.db.pool.query(`select count(*)::int as count from inventory_transactions where lot_id = $1 and type = 'ADJUSTMENT'`, [lotId]);
    expect(rows[0].count).toBe(1);
  });
});

describe('PUT /inventory/adjust: bad input', () => {
  const line = { productId: 'p-bad', warehouseId: 'wh-1', quantity: 3, type: 'RECEIPT', reason: 'delivery' };
  const lotId = '01890a5d-ac96-774b-bcce-b302099a8057';

  it.each([
    ['a quantity of the wrong type', { adjustments: [{ ...line, quantity: 'ten' }] }, 'adjustments.0.quantity'],
    ['a negative quantity', { adjustments: [{ ...line, quantity: -5 }] }, 'adjustments.0.quantity'],
    ['a zero quantity', { adjustments: [{ ...line, quantity: 0 }] }, 'adjustments.0.quantity'],
    ['a fractional quantity', { adjustments: [{ ...line, quantity: 1.5 }] }, 'adjustments.0.quantity'],
    ['a huge quantity', { adjustments: [{ ...line, quantity: 1_000_001 }] }, 'adjustments.0.quantity'],
    ['a zero ADJUSTMENT', { adjustments: [{ ...line, type: 'ADJUSTMENT', quantity: 0 }] }, 'adjustments.0.quantity'],
    ['a huge negative ADJUSTMENT', { adjustments: [{ ...line, type: 'ADJUSTMENT', quantity: -1_000_001 }] }, 'adjustments.0.quantity'],
    ['a negative SHIPMENT', { adjustments: [{ ...line, type: 'SHIPMENT', quantity: -1 }] }, 'adjustments.0.quantity'],
    ['a missing reason', { adjustments: [{ ...line, reason: undefined }] }, 'adjustments.0.reason'],
    ['a missing productId', { adjustments: [{ ...line, productId: undefined }] }, 'adjustments.0.productId'],
    ['a malformed productId', { adjustments: [{ ...line, productId: 'has spaces' }] }, 'adjustments.0.productId'],
    ['an unknown type', { adjustments: [{ ...line, type: 'STEAL' }] }, 'adjustments.0.type'],
    ['an unknown field on a line', { adjustments: [{ ...line, colour: 'red' }] }, 'adjustments.0'],
    ['an unknown top-level field', { adjustments: [line], dryRun: true }, ''],
    ['a lotId on a RECEIPT', { adjustments: [{ ...line, lotId }] }, 'adjustments.0'],
    ['a lotId that is not a uuid', { adjustments: [{ ...line, type: 'SHIPMENT', lotId: 'lot-1' }] }, 'adjustments.0.lotId'],
    ['a version without a lotId', { adjustments: [{ ...line, type: 'SHIPMENT', version: 1 }] }, 'adjustments.0.version'],
    ['lot facts on a RETURN into an existing lot', { adjustments: [{ ...line, type: 'RETURN', lotId, lotNumber: 'x' }] }, 'adjustments.0.lotId'],
    ['a malformed expiresAt', { adjustments: [{ ...line, expiresAt: 'tomorrow' }] }, 'adjustments.0.expiresAt'],
    ['a negative unitCost', { adjustments: [{ ...line, unitCost: -1 }] }, 'adjustments.0.unitCost'],
    ['no lines', { adjustments: [] }, 'adjustments'],
    ['more than 500 lines', { adjustments: Array.from({ length: 501 }, () => line) }, 'adjustments'],
    ['lines that are not a list', { adjustments: line }, 'adjustments'],
    ['no body fields', {}, 'adjustments'],
  ])('answers 400 with the zod issues to %s, and changes nothing', async (_name, payload, path) => {
    const before = await stockSnapshot(t.db.pool);
    const response = await t.app.inject({ method: 'PUT', url: '/api/v1/inventory/adjust', headers: admin, payload });
    expect(response.statusCode).toBe(400);
    const error = response.json().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const response = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/inventory/adjust',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '{"adjustments": [',
    });
    expect(response.statusCode).toBe(400);
  });

  it.each([
    ['an unknown product', { productId: 'p-nope' }, { unknownProducts: ['p-nope'] }],
    ['an unknown warehouse', { warehouseId: 'wh-nope' }, { unknownWarehouses: ['wh-nope'] }],
  ])('answers 400 UNKNOWN_REFERENCE to %s, and changes nothing', async (_name, change, details) => {
    const before = await stockSnapshot(t.db.pool);
    const response = await adjust(t, [line, { ...line, ...change }]);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'UNKNOWN_REFERENCE', details });
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('answers 400 UNKNOWN_REFERENCE to a lot of another product or warehouse, and changes nothing', async () => {
    const otherLot = await receive(t, 'p-bad', 'wh-2', 5);
    const before = await stockSnapshot(t.db.pool);
    const response = await adjust(t, [{ ...line, type: 'SHIPMENT', quantity: 1, lotId: otherLot }]);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'UNKNOWN_REFERENCE', details: { unknownLots: [{ line: 0, lotId: otherLot }] } });
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });
});

describe('PUT /inventory/adjust: idempotency and roles', () => {
  const receipt = { productId: 'p-idem', warehouseId: 'wh-1', quantity: 7, type: 'RECEIPT', reason: 'delivery', reference: 'PO-9' };

  it('replays the first answer to a repeat with the same Idempotency-Key and body, receiving once', async () => {
    const first = await adjust(t, [receipt], { 'idempotency-key': 'adjust-1' });
    const again = await adjust(t, [receipt], { 'idempotency-key': 'adjust-1' });
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    const { rows } = await t.db.pool.query(`select coalesce(sum(quantity), 0)::int as total from inventory_items where product_id = 'p-idem'`);
    expect(rows[0].total).toBe(7);
  });

  it('answers 422 to the same Idempotency-Key with another body, and changes nothing', async () => {
    const before = await stockSnapshot(t.db.pool);
    const response = await adjust(t, [{ ...receipt, quantity: 8 }], { 'idempotency-key': 'adjust-1' });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('IDEMPOTENCY_MISMATCH');
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });

  it('answers 403 to a service caller, and changes nothing', async () => {
    const before = await stockSnapshot(t.db.pool);
    const response = await t.app.inject({ method: 'PUT', url: '/api/v1/inventory/adjust', headers: service, payload: { adjustments: [receipt] } });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('FORBIDDEN');
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
  });
});

describe('adjustStock', () => {
  it('reports the products whose stock grew, so later work in the same transaction can serve them', async () => {
    await receive(t, 'p-use', 'wh-1', 10);
    const outcome = await withTransaction(t.db.pool, (tx) =>
      adjustStock(
        tx,
        {
          adjustments: [
            { productId: 'p-use', warehouseId: 'wh-1', quantity: 2, type: 'SHIPMENT', reason: 'out' },
            { productId: 'p-return', warehouseId: 'wh-2', quantity: 1, type: 'RETURN', reason: 'in' },
            { productId: 'p-adjust', warehouseId: 'wh-2', quantity: 1, type: 'ADJUSTMENT', reason: 'in' },
          ],
        },
        'ops-2',
      ),
    );
    expect(outcome.replenishedProductIds).toEqual(['p-adjust', 'p-return']);
  });
});
