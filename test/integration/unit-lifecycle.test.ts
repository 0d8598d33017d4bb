import { findUnitDifferences } from '../../src/db/unit-store';
import { startTestApp, type TestApp } from '../helpers/app';
import { seedCatalogue } from '../helpers/inventory';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced } from '../helpers/stock';
import { receiveUnits, unitsOf } from '../helpers/units';

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('unit-lifecycle');
  api = inventoryApi(t.app);
  await seedCatalogue(t, { warehouses: ['wh-a', 'wh-b'], serialProducts: ['ph-1', 'ph-2', 'ph-3', 'ph-4'] });
});
afterAll(async () => t.close());
afterEach(async () => {
  await expectBooksBalanced(t.db.pool);
  expect((await findUnitDifferences(t.db.pool)).differences).toEqual([]);
});

async function stepsOf(productId: string, serial: string): Promise<string[]> {
  const { rows } = await t.db.pool.query<{ step: string }>(
    `select coalesce(h.from_status, '-') || '>' || h.to_status as step
       from unit_status_history h join stock_units u on u.id = h.unit_id where u.product_id = $1 and u.serial_number = $2 order by h.id`,
    [productId, serial],
  );
  return rows.map((row) => row.step);
}

async function reserve(orderId: string, productId: string, quantity: number, extra: object = {}): Promise<string> {
  const response = await api.reserve({ orderId, items: [{ productId, quantity }], ...extra });
  expect(response.statusCode).toBe(201);
  return response.json().reservationId;
}

describe('units follow their reservation', () => {
  it('reserving takes units from the lots the strategy picks; releasing gives them back', async () => {
    await receiveUnits(t, 'ph-1', 'wh-a', ['A-2', 'A-1'], { receivedAt: '2026-01-01T00:00:00Z' });
    await receiveUnits(t, 'ph-1', 'wh-b', ['B-1', 'B-2'], { receivedAt: '2026-02-01T00:00:00Z' });

    const fifo = await reserve('o-fifo', 'ph-1', 3);
    expect(await unitsOf(t, 'ph-1')).toEqual({
      'A-1': ['RESERVED', fifo],
      'A-2': ['RESERVED', fifo],
      'B-1': ['RESERVED', fifo],
      'B-2': ['AVAILABLE', null],
    });
    const lifo = await reserve('o-lifo', 'ph-1', 1, { strategy: 'lifo' });
    expect((await unitsOf(t, 'ph-1'))['B-2']).toEqual(['RESERVED', lifo]);

    expect((await api.release({ reservationId: fifo, reason: 'order cancelled' })).statusCode).toBe(200);
    expect(await unitsOf(t, 'ph-1')).toMatchObject({ 'A-1': ['AVAILABLE', null], 'A-2': ['AVAILABLE', null], 'B-1': ['AVAILABLE', null] });
    expect(await stepsOf('ph-1', 'A-1')).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED', 'RESERVED>AVAILABLE']);
  });

  it('allocating marks them Sold, shipping Delivered; an allocation of part gives the rest back', async () => {
    await receiveUnits(t, 'ph-2', 'wh-a', ['S-1', 'S-2', 'S-3']);
    const reservationId = await reserve('o-sell', 'ph-2', 3);
    const allocated = await api.allocate({ reservationId, items: [{ productId: 'ph-2', quantity: 2 }] });
    expect(allocated.statusCode).toBe(200);
    expect(await unitsOf(t, 'ph-2')).toEqual({ 'S-1': ['SOLD', reservationId], 'S-2': ['SOLD', reservationId], 'S-3': ['AVAILABLE', null] });
    expect((await api.ship({ reservationId })).statusCode).toBe(200);
    expect(await unitsOf(t, 'ph-2')).toMatchObject({ 'S-1': ['DELIVERED', reservationId], 'S-2': ['DELIVERED', reservationId] });
    expect(await stepsOf('ph-2', 'S-1')).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED', 'RESERVED>SOLD', 'SOLD>DELIVERED']);

    // a direct sale: Available -> Sold
    const direct = await api.allocate({ orderId: 'o-direct', items: [{ productId: 'ph-2', quantity: 1 }] });
    expect(direct.statusCode).toBe(201);
    expect((await unitsOf(t, 'ph-2'))['S-3']).toEqual(['SOLD', direct.json().reservationId]);
    expect(await stepsOf('ph-2', 'S-3')).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED', 'RESERVED>AVAILABLE', 'AVAILABLE>SOLD']);
  });

  it('a moved reservation takes its units along; an expired one gives them back', async () => {
    await receiveUnits(t, 'ph-3', 'wh-a', ['M-1', 'M-2', 'M-3']);
    const source = await reserve('o-move-1', 'ph-3', 3);
    const moved = await api.call('POST', `/inventory/reservations/${source}/transfer`, { orderId: 'o-move-2', items: [{ productId: 'ph-3', quantity: 2 }] });
    expect(moved.statusCode).toBe(201);
    const target = moved.json().to.reservationId;
    expect(await unitsOf(t, 'ph-3')).toEqual({ 'M-1': ['RESERVED', target], 'M-2': ['RESERVED', target], 'M-3': ['RESERVED', source] });
    // the units handed over record the move in their history; the one left behind does not
    const { rows: moveSteps } = await t.db.pool.query(
      `select u.serial_number as "serialNumber", h.from_status as "fromStatus", h.to_status as "toStatus", h.reason, h.reference, h.actor
         from unit_status_history h join stock_units u on u.id = h.unit_id
        where u.product_id = 'ph-3' and h.reason = 'reservation moved' order by u.serial_number`,
    );
    expect(moveSteps).toEqual(
      ['M-1', 'M-2'].map((serialNumber) => ({
        serialNumber,
        fromStatus: 'RESERVED',
        toStatus: 'RESERVED',
        reason: 'reservation moved',
        reference: target,
        actor: 'checkout',
      })),
    );
    const shown = await api.call('GET', '/units/M-1?productId=ph-3');
    expect(shown.json().history.at(-1)).toMatchObject({ fromStatus: 'RESERVED', toStatus: 'RESERVED', reason: 'reservation moved', reference: target });
    expect(await stepsOf('ph-3', 'M-3')).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED']);
    expect((await api.release({ reservationId: target })).statusCode).toBe(200);
    expect(await unitsOf(t, 'ph-3')).toEqual({ 'M-1': ['AVAILABLE', null], 'M-2': ['AVAILABLE', null], 'M-3': ['RESERVED', source] });

    // the hold lapses; the next reserve of the product expires it in line and may take its units
    await t.db.pool.query(`update reservations set expires_at = now() - interval '1 minute' where id = $1`, [source]);
    const next = await reserve('o-after-expiry', 'ph-3', 3);
    expect(await unitsOf(t, 'ph-3')).toEqual({ 'M-1': ['RESERVED', next], 'M-2': ['RESERVED', next], 'M-3': ['RESERVED', next] });
    expect(await stepsOf('ph-3', 'M-3')).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED', 'RESERVED>AVAILABLE', 'AVAILABLE>RESERVED']);
    expect(await stepsOf('ph-3', 'M-1')).toEqual(['->AVAILABLE', 'AVAILABLE>RESERVED', 'RESERVED>RESERVED', 'RESERVED>AVAILABLE', 'AVAILABLE>RESERVED']);
  });

  it('a backorder filled by a receipt reserves the units received', async () => {
    const response = await api.reserve({ orderId: 'o-wait', items: [{ productId: 'ph-4', quantity: 2 }], allowBackorder: true });
    expect(response.statusCode).toBe(202);
    await receiveUnits(t, 'ph-4', 'wh-a', ['W-1', 'W-2', 'W-3']);
    const units = await unitsOf(t, 'ph-4');
    expect(Object.values(units).filter(([status]) => status === 'RESERVED')).toHaveLength(2);
    expect(units['W-3']).toEqual(['AVAILABLE', null]);
  });
});
