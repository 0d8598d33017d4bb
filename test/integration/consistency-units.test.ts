import { findUnitDifferences } from '../../src/db/unit-store';
import { startTestApp, type TestApp } from '../helpers/app';
import { eventually } from '../helpers/event-tap';
import { admin, seedCatalogue } from '../helpers/inventory';
import { inventoryApi } from '../helpers/inventory-api';
import { expectBooksBalanced, reservationBookDifferences } from '../helpers/stock';
import { receiveUnits, unitsOf } from '../helpers/units';

/**
 * The unit_mismatch kind of the consistency monitor (seed 004): units whose state disagrees with the
 * reservation lines on their lot, produced by corrupting the database on purpose, found by the
 * check (stored, counted, announced) and repaired by the fix calls, which re-derive the units from the lines.
 */

let t: TestApp;
let api: ReturnType<typeof inventoryApi>;

beforeAll(async () => {
  t = await startTestApp('consistency-units');
  api = inventoryApi(t.app);
  await seedCatalogue(t, { warehouses: ['wh-1'], serialProducts: ['swap-1', 'orphan-1', 'lost-1', 'gone-1'] });
});
afterAll(async () => t.close());
afterEach(async () => {
  // every test leaves the books whole: corruptions are repaired (or undone)
  await expectBooksBalanced(t.db.pool);
  expect(await reservationBookDifferences(t.db.pool)).toEqual([]);
  expect((await findUnitDifferences(t.db.pool)).differences).toEqual([]);
  expect((await check()).openByKind.unit_mismatch).toBe(0);
});

const adminCall = (method: 'GET' | 'POST', url: string) => t.app.inject({ method, url: `/api/v1${url}`, headers: admin });

async function check(): Promise<Record<string, any>> {
  const response = await adminCall('POST', '/admin/consistency/check');
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function reserve(orderId: string, productId: string, serialNumbers: string[]): Promise<string> {
  const response = await api.reserve({ orderId, items: [{ productId, quantity: serialNumbers.length, serialNumbers }] });
  expect(response.statusCode).toBe(201);
  return response.json().reservationId;
}

/** Writes to stock_units without the deferred trigger that holds a lot to its units: a corruption no call can make. */
async function corruptUnits(statement: string, values: unknown[]): Promise<void> {
  const client = await t.db.pool.connect();
  try {
    await client.query('begin');
    await client.query(`set local session_replication_role = replica`);
    await client.query(statement, values);
    await client.query('commit');
  } finally {
    client.release();
  }
}

/** The open unit_mismatch finding of the lot, after a check found it once: stored, listed, counted and announced. */
async function expectMismatch(lotId: string): Promise<Record<string, any>> {
  const answer = await check();
  expect(answer.openByKind.unit_mismatch).toBe(1);
  const listed = (await adminCall('GET', `/admin/consistency?kind=unit_mismatch&open=true&subjectId=${lotId}`)).json().items;
  expect(listed).toEqual([expect.objectContaining({ kind: 'unit_mismatch', subjectType: 'lot', subjectId: lotId, open: true })]);
  const { rows } = await t.db.pool.query(`select payload from outbox_events where event_type = 'ConsistencyIssueDetected' and payload ->> 'findingId' = $1`, [
    listed[0].id,
  ]);
  expect(rows).toEqual([{ payload: expect.objectContaining({ kind: 'unit_mismatch', subjectId: lotId }) }]);
  await eventually(
    async () => (await (await t.admin('/metrics')).text()).includes('stockroom_consistency_findings_open{kind="unit_mismatch"} 1'),
    5000,
    'the unit_mismatch gauge to be 1',
  );
  return listed[0];
}

describe('unit_mismatch', () => {
  it('finds units Sold without an allocation and Reserved without a live hold (their reservations swapped), and the finding fix hands them back', async () => {
    const lotId = await receiveUnits(t, 'swap-1', 'wh-1', ['W-1', 'W-2', 'W-3']);
    const held = await reserve('o-swap-held', 'swap-1', ['W-1']);
    const sold = await reserve('o-swap-sold', 'swap-1', ['W-2']);
    expect((await api.allocate({ reservationId: sold })).statusCode).toBe(200);
    // the lot's counts still agree: one Reserved, one Sold; only whose they are is wrong
    await t.db.pool.query(
      `update stock_units set reservation_id = case serial_number when 'W-1' then $2::uuid else $1::uuid end
                            where product_id = 'swap-1' and serial_number in ('W-1', 'W-2')`,
      [held, sold],
    );
    const view = (await api.call('GET', '/orders/o-swap-held/inventory')).json();
    expect(view.consistent).toBe(false);

    const finding = await expectMismatch(lotId);
    expect(finding.detail.disagreements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reservationId: held, status: 'RESERVED', expected: 1, actual: 0 }),
        expect.objectContaining({ reservationId: held, status: 'SOLD', expected: 0, actual: 1, serialNumbers: ['W-2'] }),
        expect.objectContaining({ reservationId: sold, status: 'RESERVED', expected: 0, actual: 1, serialNumbers: ['W-1'] }),
      ]),
    );

    const fixed = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(fixed.statusCode).toBe(200);
    expect(fixed.json()).toMatchObject({ result: { outcome: 'fixed', action: 'rederive' }, finding: { open: false, resolution: 'fixed by ops-1: rederive' } });
    expect(await unitsOf(t, 'swap-1')).toEqual({ 'W-1': ['RESERVED', held], 'W-2': ['SOLD', sold], 'W-3': ['AVAILABLE', null] });
    // only reservations were handed back: each unit's step keeps its status and names its reservation now
    const steps = await t.db.pool.query<{ fromStatus: string; toStatus: string; reference: string }>(
      `select from_status as "fromStatus", to_status as "toStatus", reference from unit_status_history where reason like 'consistency fix%' order by to_status`,
    );
    expect(steps.rows).toEqual([
      { fromStatus: 'RESERVED', toStatus: 'RESERVED', reference: held },
      { fromStatus: 'SOLD', toStatus: 'SOLD', reference: sold },
    ]);
    expect((await api.call('GET', '/orders/o-swap-held/inventory')).json().consistent).toBe(true);
  });

  it('finds a live line whose unit lost its reservation, and the order fix gives it back', async () => {
    const lotId = await receiveUnits(t, 'orphan-1', 'wh-1', ['F-1', 'F-2']);
    const reservationId = await reserve('o-orphan', 'orphan-1', ['F-1', 'F-2']);
    await t.db.pool.query(`update stock_units set reservation_id = null where product_id = 'orphan-1' and serial_number = 'F-2'`);
    const finding = await expectMismatch(lotId);
    expect(finding.detail.disagreements).toEqual([
      expect.objectContaining({ reservationId, status: 'RESERVED', expected: 2, actual: 1 }),
      expect.objectContaining({ reservationId: null, status: 'RESERVED', expected: 0, actual: 1, serialNumbers: ['F-2'] }),
    ]);

    const fixed = await adminCall('POST', '/admin/orders/o-orphan/fix-inconsistencies');
    expect(fixed.statusCode).toBe(200);
    expect(fixed.json().results).toEqual([
      expect.objectContaining({ kind: 'unit_mismatch', subjectType: 'lot', subjectId: lotId, findingId: finding.id, outcome: 'fixed', action: 'rederive' }),
    ]);
    expect(await unitsOf(t, 'orphan-1')).toEqual({ 'F-1': ['RESERVED', reservationId], 'F-2': ['RESERVED', reservationId] });
    // and the reservation's calls work on its units again
    expect((await api.release({ reservationId })).statusCode).toBe(200);
    expect(await unitsOf(t, 'orphan-1')).toEqual({ 'F-1': ['AVAILABLE', null], 'F-2': ['AVAILABLE', null] });
  });

  it("finds units whose status left their lot's (written past the trigger), and re-derives their status from the lines with a history step", async () => {
    const lotId = await receiveUnits(t, 'lost-1', 'wh-1', ['X-1', 'X-2']);
    const reservationId = await reserve('o-lost', 'lost-1', ['X-2']);
    await corruptUnits(`update stock_units set status = 'AVAILABLE', reservation_id = null where product_id = 'lost-1' and serial_number = 'X-2'`, []);
    expect((await findUnitDifferences(t.db.pool)).differences).toEqual([expect.objectContaining({ lotId })]);
    const finding = await expectMismatch(lotId);
    expect(finding.detail.disagreements).toEqual([expect.objectContaining({ reservationId, status: 'RESERVED', expected: 1, actual: 0 })]);

    expect((await adminCall('POST', `/admin/consistency/${finding.id}/fix`)).json().result.outcome).toBe('fixed');
    // the reservation gets a unit again (the first Available one), and the step says why
    expect(await unitsOf(t, 'lost-1')).toEqual({ 'X-1': ['RESERVED', reservationId], 'X-2': ['AVAILABLE', null] });
    const history = (await api.call('GET', '/units/X-1?productId=lost-1')).json().history;
    expect(history.at(-1)).toMatchObject({
      fromStatus: 'AVAILABLE',
      toStatus: 'RESERVED',
      reason: 'consistency fix: re-derived from reservation lines',
      reference: reservationId,
      actor: 'ops-1',
    });
    await api.release({ reservationId });
  });

  it('leaves a Delivered unit the lines do not account for to a person: 409 saying why, nothing changed', async () => {
    const lotId = await receiveUnits(t, 'gone-1', 'wh-1', ['G-1']);
    const reservationId = await reserve('o-gone', 'gone-1', ['G-1']);
    expect((await api.allocate({ reservationId })).statusCode).toBe(200);
    expect((await api.ship({ reservationId })).statusCode).toBe(200);
    await t.db.pool.query(`update stock_units set reservation_id = null where product_id = 'gone-1'`);
    const finding = await expectMismatch(lotId);

    const refused = await adminCall('POST', `/admin/consistency/${finding.id}/fix`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toMatch(/Delivered unit is not moved back automatically/);
    expect(await unitsOf(t, 'gone-1')).toEqual({ 'G-1': ['DELIVERED', null] });
    // undone by hand, as the person would
    await t.db.pool.query(`update stock_units set reservation_id = $1 where product_id = 'gone-1'`, [reservationId]);
  });
});
