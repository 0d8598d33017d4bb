import { reconcile } from '../../src/cli/reconcile';
import { findUnitDifferences } from '../../src/db/unit-store';
import { startTestApp, type TestApp } from '../helpers/app';
import { adjust, admin, seedCatalogue, stockSnapshot } from '../helpers/inventory';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced } from '../helpers/stock';
import { receiveUnits, unitsOf } from '../helpers/units';

/**
 * Returns of serial-tracked units (seed 004): a unit that left stock (Delivered, Written off) and
 * comes back by a RETURN adjustment is a new life of its serial number — a new unit linked to the old
 * one, which stays in its terminal status — and every lookup by serial number finds the new one.
 */

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('unit-returns');
  api = inventoryApi(t.app);
  await seedCatalogue(t, { warehouses: ['wh-a', 'wh-b'], serialProducts: ['phone-1', 'phone-2', 'phone-3', 'phone-4'] });
});
afterAll(async () => t.close());
afterEach(async () => {
  await expectBooksBalanced(t.db.pool);
  expect((await findUnitDifferences(t.db.pool)).differences).toEqual([]);
  const lines: string[] = [];
  expect(await reconcile(t.db.pool, (line) => lines.push(line))).toBe(true);
  const check = await t.app.inject({ method: 'POST', url: '/api/v1/admin/consistency/check', headers: admin });
  expect(check.statusCode).toBe(200);
  expect(check.json().openByKind.unit_mismatch).toBe(0);
});

type UnitDetail = {
  id: string;
  serialNumber: string;
  status: string;
  condition: string;
  lotId: string;
  life: number;
  previousUnitId: string | null;
  reservationId: string | null;
  history: { unitId: string; life: number; fromStatus: string | null; toStatus: string; reason: string | null; reference: string | null }[];
};

const returnOf = (productId: string, serialNumber: string, extra: Record<string, unknown> = {}) => ({
  productId,
  warehouseId: 'wh-a',
  type: 'RETURN',
  quantity: 1,
  reason: 'customer return',
  units: [{ serialNumber, condition: 'Refurbished' }],
  ...extra,
});

async function unitDetail(productId: string, serialNumber: string): Promise<UnitDetail> {
  const response = await api.call('GET', `/units/${serialNumber}?productId=${productId}`);
  expect(response.statusCode).toBe(200);
  return response.json<UnitDetail>();
}

async function mark(target: 'sold' | 'delivered', payload: object): Promise<void> {
  const response = await api.call('POST', `/units/mark-${target}`, payload);
  expect(response.statusCode).toBe(200);
}

/** Receives the serial numbers, then sells and delivers them to the order. */
async function deliver(productId: string, serials: string[], orderId: string, warehouseId = 'wh-a'): Promise<string> {
  await receiveUnits(t, productId, warehouseId, serials);
  const reserved = await api.reserve({ orderId, items: [{ productId, quantity: serials.length, serialNumbers: serials }] });
  expect(reserved.statusCode).toBe(201);
  await mark('sold', { orderId });
  await mark('delivered', { orderId });
  return reserved.json().reservationId;
}

describe('a delivered unit returned', () => {
  it('comes back as a new life: received, reserved, sold, delivered, returned Refurbished, reserved again by serial, sold', async () => {
    const firstLot = await receiveUnits(t, 'phone-1', 'wh-a', ['IMEI-1', 'IMEI-2']);
    // reserved by strategy (the first serial number of the lot), sold, delivered
    const reserved = await api.reserve({ orderId: 'inv-1', items: [{ productId: 'phone-1', quantity: 1 }] });
    expect(reserved.statusCode).toBe(201);
    const firstSale = reserved.json().reservationId;
    await mark('sold', { orderId: 'inv-1' });
    await mark('delivered', { orderId: 'inv-1' });
    const delivered = await unitDetail('phone-1', 'IMEI-1');
    expect(delivered).toMatchObject({ status: 'DELIVERED', life: 1, previousUnitId: null, reservationId: firstSale });

    const returned = await adjust(t, [returnOf('phone-1', 'IMEI-1', { reference: 'RMA-1' })]);
    expect(returned.statusCode).toBe(200);
    const returnLot = returned.json().adjustments[0].movements[0].lotId;
    expect(returnLot).not.toBe(firstLot);

    const back = await unitDetail('phone-1', 'IMEI-1');
    expect(back).toMatchObject({
      status: 'AVAILABLE',
      condition: 'Refurbished',
      lotId: returnLot,
      life: 2,
      previousUnitId: delivered.id,
      reservationId: null,
    });
    expect(back.id).not.toBe(delivered.id);
    // the first life keeps its terminal status, its reservation and its history
    const { rows: lives } = await t.db.pool.query(
      `select id, life, status, condition, reservation_id as "reservationId" from stock_units where product_id = 'phone-1' and serial_number = 'IMEI-1' order by life`,
    );
    expect(lives).toEqual([
      { id: delivered.id, life: 1, status: 'DELIVERED', condition: 'New', reservationId: firstSale },
      { id: back.id, life: 2, status: 'AVAILABLE', condition: 'Refurbished', reservationId: null },
    ]);

    // reserved again by serial number, then sold: the lookups by serial number find the new life
    const again = await api.reserve({ orderId: 'inv-2', items: [{ productId: 'phone-1', quantity: 1, serialNumbers: ['IMEI-1'] }] });
    expect(again.statusCode).toBe(201);
    const secondSale = again.json().reservationId;
    await mark('sold', { productId: 'phone-1', serialNumbers: ['IMEI-1'] });

    const sold = await unitDetail('phone-1', 'IMEI-1');
    expect(sold).toMatchObject({ id: back.id, status: 'SOLD', reservationId: secondSale, life: 2 });
    expect(sold.history.map((step) => [step.life, step.unitId, `${step.fromStatus ?? '-'}>${step.toStatus}`])).toEqual([
      [1, delivered.id, '->AVAILABLE'],
      [1, delivered.id, 'AVAILABLE>RESERVED'],
      [1, delivered.id, 'RESERVED>SOLD'],
      [1, delivered.id, 'SOLD>DELIVERED'],
      [2, back.id, '->AVAILABLE'],
      [2, back.id, 'AVAILABLE>RESERVED'],
      [2, back.id, 'RESERVED>SOLD'],
    ]);
    expect(sold.history[4]).toMatchObject({ reason: 'customer return', reference: 'RMA-1' });

    const listed = await api.call('GET', '/units?productId=phone-1&serialNumber=IMEI-1');
    expect(listed.json().items.map((unit: { id: string }) => unit.id)).toEqual([back.id]);
    // the first order still shows the unit it was delivered, and agrees with it
    const firstOrder = await api.call('GET', '/orders/inv-1/inventory');
    expect(firstOrder.json()).toMatchObject({ consistent: true, units: [{ id: delivered.id, status: 'DELIVERED' }] });
  });

  it('refuses a receipt of a serial number the product has or had, and a return of one still in stock, with its status', async () => {
    await deliver('phone-2', ['D-1'], 'inv-refuse');
    await receiveUnits(t, 'phone-2', 'wh-a', ['A-1', 'R-1', 'S-1']);
    await api.reserve({ orderId: 'inv-held', items: [{ productId: 'phone-2', quantity: 1, serialNumbers: ['R-1'] }] });
    await api.reserve({ orderId: 'inv-sold', items: [{ productId: 'phone-2', quantity: 1, serialNumbers: ['S-1'] }] });
    await mark('sold', { orderId: 'inv-sold' });
    const before = await stockSnapshot(t.db.pool);

    const receipt = await adjust(t, [
      {
        productId: 'phone-2',
        warehouseId: 'wh-a',
        type: 'RECEIPT',
        quantity: 2,
        reason: 'delivery',
        units: [{ serialNumber: 'D-1' }, { serialNumber: 'N-1' }],
      },
    ]);
    expect(receipt.statusCode).toBe(409);
    expect(receipt.json().error).toMatchObject({
      code: 'ALREADY_EXISTS',
      details: { duplicateSerials: [{ productId: 'phone-2', serialNumber: 'D-1', status: 'DELIVERED' }] },
    });
    const returns = await adjust(t, [
      returnOf('phone-2', 'D-1'),
      {
        ...returnOf('phone-2', 'A-1'),
        quantity: 3,
        units: ['A-1', 'R-1', 'S-1'].map((serialNumber) => ({ serialNumber })),
      },
    ]);
    expect(returns.statusCode).toBe(409);
    expect(returns.json().error).toMatchObject({
      code: 'ALREADY_EXISTS',
      details: {
        duplicateSerials: [
          { productId: 'phone-2', serialNumber: 'A-1', status: 'AVAILABLE' },
          { productId: 'phone-2', serialNumber: 'R-1', status: 'RESERVED' },
          { productId: 'phone-2', serialNumber: 'S-1', status: 'SOLD' },
        ],
      },
    });
    expect(await stockSnapshot(t.db.pool)).toEqual(before);
    expect((await unitDetail('phone-2', 'D-1')).status).toBe('DELIVERED');
  });

  it('brings a written-off unit back by a return, which a write-off by serial number then takes again', async () => {
    const lotId = await receiveUnits(t, 'phone-3', 'wh-a', ['W-1', 'W-2']);
    const writeOff = (reason: string) =>
      adjust(t, [{ productId: 'phone-3', warehouseId: 'wh-a', type: 'WRITE_OFF', quantity: 1, reason, serialNumbers: ['W-1'] }]);
    expect((await writeOff('lost')).statusCode).toBe(200);
    const lost = await unitDetail('phone-3', 'W-1');
    // found again, returned into the lot it was written off from
    expect((await adjust(t, [returnOf('phone-3', 'W-1', { lotId })])).statusCode).toBe(200);
    expect(await unitDetail('phone-3', 'W-1')).toMatchObject({ status: 'AVAILABLE', lotId, life: 2, previousUnitId: lost.id });
    expect((await writeOff('dropped')).statusCode).toBe(200);
    const gone = await unitDetail('phone-3', 'W-1');
    expect(gone).toMatchObject({ status: 'WRITTEN_OFF', life: 2 });
    expect(gone.history.map((step) => `${step.life}:${step.fromStatus ?? '-'}>${step.toStatus}`)).toEqual([
      '1:->AVAILABLE',
      '1:AVAILABLE>WRITTEN_OFF',
      '2:->AVAILABLE',
      '2:AVAILABLE>WRITTEN_OFF',
    ]);
    expect(await unitsOf(t, 'phone-3')).toEqual({ 'W-1': ['WRITTEN_OFF', null], 'W-2': ['AVAILABLE', null] });
  });
});

describe('two returns of one delivered serial number at once', () => {
  it.each([
    ['at one warehouse', 'wh-a', 'C-1'],
    ['at two warehouses', 'wh-b', 'C-2'],
  ])('%s: exactly one wins', async (_name, secondWarehouse, serial) => {
    await deliver('phone-4', [serial], `inv-${serial}`);
    const results = await Promise.all([adjust(t, [returnOf('phone-4', serial)]), adjust(t, [returnOf('phone-4', serial, { warehouseId: secondWarehouse })])]);
    expect(results.map((response) => response.statusCode).sort()).toEqual([200, 409]);
    expect(results.find((response) => response.statusCode === 409)!.json().error.code).toBe('ALREADY_EXISTS');
    const { rows } = await t.db.pool.query(`select life, status from stock_units where product_id = 'phone-4' and serial_number = $1 order by life`, [serial]);
    expect(rows).toEqual([
      { life: 1, status: 'DELIVERED' },
      { life: 2, status: 'AVAILABLE' },
    ]);
  });
});
