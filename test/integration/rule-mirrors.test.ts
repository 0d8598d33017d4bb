/**
 * Each business rule lives once in src/domain, with its SQL mirror named beside its store. These
 * tests hold the two to the same answers at the rule's boundaries, and check that every reader of
 * stock (the planner, the stock views, the low-stock alert and the low-stock list) applies them.
 */
import { queryRow, withTransaction } from '../../src/db/client';
import { listBackorders, lockOpenBackorders } from '../../src/db/backorder-store';
import { productRefusesReservationsSql } from '../../src/db/catalogue-store';
import { findUnitMismatchLots } from '../../src/db/consistency-store';
import { findLotsOfProducts, lotAvailableSql, lotExpiredSql, warehouseServesSql } from '../../src/db/lot-store';
import { sumAvailableStock } from '../../src/db/low-stock-store';
import { lockFor } from '../../src/db/locks';
import { commitWrites } from '../../src/db/writes';
import { findLowStock, isLowStockSql, lowStockSeveritySql, upsertStockSettings } from '../../src/db/stock-settings-store';
import { productStatuses, productTakesReservations, warehouseServes } from '../../src/domain/catalogue';
import { isExpired } from '../../src/domain/expiry';
import type { NewBackorder } from '../../src/domain/backorder';
import { isLowStock, lowStockSeverity } from '../../src/domain/low-stock';
import { byPriorityThenArrival, type Priority } from '../../src/domain/priority';
import { available } from '../../src/domain/quantities';
import { chooseTakes, orderLots } from '../../src/domain/strategies';
import { toCandidateLot } from '../../src/inventory/stock/lots';
import { committedWithin } from '../../src/db/snapshots';
import { unitInStockSql, unitIsCurrentSql } from '../../src/db/unit-store';
import { currentLives, isInStock, unitDisagreements, unitStatuses, type ReservationUnit, type UnitLine, type UnitStatus } from '../../src/domain/units';
import { stockByWarehouse } from '../../src/inventory/stock/lots';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { receiveLots, seedCatalogue } from '../helpers/stock';

let db: TestDatabase;
const now = new Date('2030-01-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

beforeAll(async () => {
  db = await createTestDatabase('rule_mirrors');
  await seedCatalogue(db.pool, { warehouses: [{ id: 'wh-1' }], products: ['expiry-p', 'available-p', 'priority-p', 'mismatch-p'] });
  await db.pool.query(`update products set tracking = 'serial' where id = 'mismatch-p'`);
});
afterAll(async () => db.drop());

/** What each reader of stock makes of the lots of one product at wh-1. */
async function readersOf(productId: string) {
  const lots = await findLotsOfProducts(db.pool, [productId]);
  const candidates = lots.map(toCandidateLot);
  const context = { strategy: 'fifo', priority: 'medium', now } as const;
  const [view] = stockByWarehouse(lots, now);
  const [level] = await withTransaction(db.pool, (tx) => sumAvailableStock(tx, [{ productId, warehouseId: 'wh-1' }], now));
  const listed = await findLowStock(db.pool, { warehouseId: 'wh-1', now, limit: 10, offset: 0 });
  return {
    lots,
    servingLotIds: orderLots(candidates, context).map((lot) => lot.id),
    plannable: chooseTakes(candidates, 1_000_000, context).reduce((sum, take) => sum + take.quantity, 0),
    stockView: { available: view!.quantityAvailable, expired: view!.quantityExpired },
    lowStockAlertLevel: level!.available,
    lowStockListLevel: listed.items.find((item) => item.productId === productId)?.available,
  };
}

/** Settings that put any stock level of the product on the low-stock list, so the list shows its level. */
async function listedAsLowStock(productId: string): Promise<void> {
  await upsertStockSettings(db.pool, {
    productId,
    warehouseId: 'wh-1',
    reorderPoint: 1_000_000,
    reorderQuantity: 1,
    minStockLevel: 0,
    maxStockLevel: null,
    zone: null,
    aisle: null,
    shelf: null,
  });
}

describe('expiry: isExpired (src/domain/expiry.ts) and lotExpiredSql (src/db/lot-store.ts)', () => {
  it.each([
    ['a lot without expiry has not expired', null, false],
    ['a lot that expired 1 ms before now has expired', at(-1), true],
    ['a lot expiring exactly at now has expired', now, true],
    ['a lot expiring 1 ms after now has not expired', at(1), false],
  ])('%s, in TypeScript and in SQL', async (_name, expiresAt, expired) => {
    expect(isExpired({ expiresAt }, now)).toBe(expired);
    const row = await queryRow<{ expired: boolean }>(db.pool, `select ${lotExpiredSql('$2')} as expired from (select $1::timestamptz as expires_at) i`, [
      expiresAt,
      now,
    ]);
    expect(row!.expired).toBe(expired);
  });

  it('every reader of stock leaves out the lots expired at now, and only those', async () => {
    const [never, before, atNow, after] = await receiveLots(db.pool, [
      { productId: 'expiry-p', warehouseId: 'wh-1', quantity: 1, expiresAt: null },
      { productId: 'expiry-p', warehouseId: 'wh-1', quantity: 10, expiresAt: at(-1) },
      { productId: 'expiry-p', warehouseId: 'wh-1', quantity: 100, expiresAt: now },
      { productId: 'expiry-p', warehouseId: 'wh-1', quantity: 1000, expiresAt: at(1) },
    ]);
    await listedAsLowStock('expiry-p');
    const readers = await readersOf('expiry-p');
    expect(readers.lots.filter((lot) => isExpired(lot, now)).map((lot) => lot.id)).toEqual([before, atNow]);
    expect(readers.servingLotIds.sort()).toEqual([never, after].sort());
    expect(readers).toMatchObject({
      plannable: 1001,
      stockView: { available: 1001, expired: 110 },
      lowStockAlertLevel: 1001,
      lowStockListLevel: 1001,
    });
  });
});

describe('catalogue flags: warehouseServes and productTakesReservations (src/domain/catalogue.ts) and their SQL mirrors', () => {
  it.each([true, false])('a warehouse with active %s: both say it serves = %s', async (active) => {
    const row = await queryRow<{ serves: boolean }>(db.pool, `select ${warehouseServesSql} as serves from (select $1::boolean as active) w`, [active]);
    expect([warehouseServes({ active }), row!.serves]).toEqual([active, active]);
  });

  it.each(productStatuses)('a product %s: productRefusesReservationsSql says the opposite of productTakesReservations', async (status) => {
    const row = await queryRow<{ refuses: boolean }>(db.pool, `select ${productRefusesReservationsSql} as refuses from (select $1::text as status) p`, [
      status,
    ]);
    expect(row!.refuses).toBe(!productTakesReservations({ status }));
  });

  it.each(unitStatuses)('a unit %s: unitInStockSql says what isInStock says', async (status) => {
    const row = await queryRow<{ inStock: boolean }>(db.pool, `select ${unitInStockSql} as "inStock" from (select $1::text as status) u`, [status]);
    expect(row!.inStock).toBe(isInStock(status));
  });

  it('every reader of stock leaves out the lots of a deactivated warehouse', async () => {
    await seedCatalogue(db.pool, { warehouses: [{ id: 'wh-closed', active: false }], products: ['closed-p'] });
    const [open] = await receiveLots(db.pool, [
      { productId: 'closed-p', warehouseId: 'wh-1', quantity: 3 },
      { productId: 'closed-p', warehouseId: 'wh-closed', quantity: 40 },
    ]);
    const lots = await findLotsOfProducts(db.pool, ['closed-p']);
    const candidates = lots.map(toCandidateLot);
    const context = { strategy: 'fifo', priority: 'medium', now } as const;
    expect(orderLots(candidates, context).map((lot) => lot.id)).toEqual([open]);
    expect(chooseTakes(candidates, 100, context)).toEqual([{ lotId: open, quantity: 3 }]);
    expect(stockByWarehouse(lots, now).map((stock) => [stock.warehouseId, stock.active, stock.quantityAvailable])).toEqual([
      ['wh-1', true, 3],
      ['wh-closed', false, 0],
    ]);
    const locked = await withTransaction(db.pool, (tx) => lockFor(tx, { servingProducts: ['closed-p'] }));
    expect(locked.lots.map((lot) => lot.id)).toEqual([open]);
  });

  it('a new request locks no lot of a discontinued product; a backorder fill and a release still reach them', async () => {
    await seedCatalogue(db.pool, { products: ['gone-p'] });
    const [lot] = await receiveLots(db.pool, [{ productId: 'gone-p', warehouseId: 'wh-1', quantity: 5 }]);
    await db.pool.query(`update products set status = 'DISCONTINUED' where id = 'gone-p'`);
    const lotsFor = (selection: Parameters<typeof lockFor>[1]) =>
      withTransaction(db.pool, async (tx) => (await lockFor(tx, selection)).lots.map((row) => row.id));
    expect(await lotsFor({ reservingProducts: ['gone-p', 'closed-p'] })).not.toContain(lot);
    expect(await lotsFor({ servingProducts: ['gone-p'] })).toEqual([lot]);
    expect(await lotsFor({ products: ['gone-p'] })).toEqual([lot]);
  });
});

describe('current life: currentLives (src/domain/units.ts) and unitIsCurrentSql (src/db/unit-store.ts)', () => {
  it('both keep the latest life of each serial number of each product: a first life alone, the last of several, lives of another product apart', async () => {
    const lives = [
      { productId: 'p', serialNumber: 'ONLY', life: 1 },
      { productId: 'p', serialNumber: 'MANY', life: 1 },
      { productId: 'p', serialNumber: 'MANY', life: 2 },
      { productId: 'p', serialNumber: 'MANY', life: 3 },
      { productId: 'q', serialNumber: 'MANY', life: 1 },
      { productId: 'p', serialNumber: 'GAP', life: 1 },
      { productId: 'p', serialNumber: 'GAP', life: 3 },
    ];
    const key = (unit: { productId: string; serialNumber: string; life: number }) => `${unit.productId}/${unit.serialNumber}/${unit.life}`;
    // a CTE named stock_units stands in for the table the mirror reads its later lives from
    const { rows } = await db.pool.query<{ productId: string; serialNumber: string; life: number }>(
      `with stock_units as (select * from unnest($1::text[], $2::text[], $3::int[]) as l(product_id, serial_number, life))
       select u.product_id as "productId", u.serial_number as "serialNumber", u.life from stock_units u where ${unitIsCurrentSql}`,
      [lives.map((unit) => unit.productId), lives.map((unit) => unit.serialNumber), lives.map((unit) => unit.life)],
    );
    const expected = ['p/ONLY/1', 'p/MANY/3', 'q/MANY/1', 'p/GAP/3'];
    expect(currentLives(lives).map(key)).toEqual(expected);
    expect(rows.map(key).sort()).toEqual([...expected].sort());
  });
});

describe('unit mismatch: unitDisagreements (src/domain/units.ts) and findUnitMismatchLots (src/db/consistency-store.ts)', () => {
  // a line as [reservation, quantity, allocated, shipped, released, moved]; a unit as [status, reservation, life?]
  type LineCase = [string, number, number, number, number, number];
  type UnitCase = [UnitStatus, string | null, number?];
  const cases: [string, LineCase[], UnitCase[], boolean][] = [
    [
      'held, units agreeing',
      [['R', 2, 0, 0, 0, 0]],
      [
        ['RESERVED', 'R'],
        ['RESERVED', 'R'],
      ],
      false,
    ],
    [
      'held, one unit short (Available instead)',
      [['R', 2, 0, 0, 0, 0]],
      [
        ['RESERVED', 'R'],
        ['AVAILABLE', null],
      ],
      true,
    ],
    [
      'held, one unit too many',
      [['R', 1, 0, 0, 0, 0]],
      [
        ['RESERVED', 'R'],
        ['RESERVED', 'R'],
      ],
      true,
    ],
    [
      'held, a unit Sold instead',
      [['R', 2, 0, 0, 0, 0]],
      [
        ['RESERVED', 'R'],
        ['SOLD', 'R'],
      ],
      true,
    ],
    [
      'allocated and unshipped, units agreeing',
      [['R', 2, 2, 0, 0, 0]],
      [
        ['SOLD', 'R'],
        ['SOLD', 'R'],
      ],
      false,
    ],
    [
      'allocated and unshipped, a unit still Reserved',
      [['R', 2, 2, 0, 0, 0]],
      [
        ['SOLD', 'R'],
        ['RESERVED', 'R'],
      ],
      true,
    ],
    [
      'allocated and unshipped, a unit Delivered already',
      [['R', 2, 2, 0, 0, 0]],
      [
        ['SOLD', 'R'],
        ['DELIVERED', 'R'],
      ],
      true,
    ],
    [
      'shipped, units agreeing',
      [['R', 2, 2, 2, 0, 0]],
      [
        ['DELIVERED', 'R'],
        ['DELIVERED', 'R'],
      ],
      false,
    ],
    [
      'shipped, a unit still Sold',
      [['R', 2, 2, 2, 0, 0]],
      [
        ['DELIVERED', 'R'],
        ['SOLD', 'R'],
      ],
      true,
    ],
    [
      'released, units agreeing',
      [['R', 2, 0, 0, 2, 0]],
      [
        ['AVAILABLE', null],
        ['AVAILABLE', null],
      ],
      false,
    ],
    [
      'released, a unit still Reserved',
      [['R', 2, 0, 0, 2, 0]],
      [
        ['AVAILABLE', null],
        ['RESERVED', 'R'],
      ],
      true,
    ],
    [
      'moved, units held by the reservation they moved to',
      [
        ['R', 2, 0, 0, 0, 2],
        ['M', 2, 0, 0, 0, 0],
      ],
      [
        ['RESERVED', 'M'],
        ['RESERVED', 'M'],
      ],
      false,
    ],
    [
      'moved, a unit left with the reservation it moved from',
      [
        ['R', 2, 0, 0, 0, 2],
        ['M', 2, 0, 0, 0, 0],
      ],
      [
        ['RESERVED', 'M'],
        ['RESERVED', 'R'],
      ],
      true,
    ],
    [
      'held, allocated, shipped and released parts of one line, units agreeing',
      [['R', 4, 2, 1, 1, 0]],
      [
        ['RESERVED', 'R'],
        ['SOLD', 'R'],
        ['DELIVERED', 'R'],
        ['AVAILABLE', null],
      ],
      false,
    ],
    ['a Reserved unit of no reservation', [], [['RESERVED', null]], true],
    ['a Delivered unit of no reservation', [], [['DELIVERED', null]], true],
    ["a unit held by another reservation than its line's", [['R', 1, 0, 0, 0, 0]], [['RESERVED', 'O']], true],
    [
      'a Delivered unit of an earlier life beside its returned next life',
      [['R', 1, 1, 1, 0, 0]],
      [
        ['DELIVERED', 'R', 1],
        ['AVAILABLE', null, 2],
      ],
      false,
    ],
    [
      'written-off and available units of no line',
      [],
      [
        ['WRITTEN_OFF', null],
        ['AVAILABLE', null],
      ],
      false,
    ],
  ];

  it.each(cases.map(([name, lineCases, unitCases, disagree]) => [name, disagree, lineCases, unitCases] as const))(
    '%s: both say disagree = %s',
    async (_name, disagree, lineCases, unitCases) => {
      const lotId = uuidv7();
      const reservationIds = new Map(['R', 'M', 'O'].map((name) => [name, uuidv7()]));
      const lines: UnitLine[] = lineCases.map(([reservation, quantity, allocatedQuantity, shippedQuantity, releasedQuantity, movedQuantity]) => ({
        reservationId: reservationIds.get(reservation)!,
        lotId,
        productId: 'mismatch-p',
        quantity,
        allocatedQuantity,
        shippedQuantity,
        releasedQuantity,
        movedQuantity,
      }));
      const units: (ReservationUnit & { life: number })[] = unitCases.map(([status, reservation, life], index) => ({
        serialNumber: life === undefined ? `SN-${index}` : 'SN-LIVES',
        productId: 'mismatch-p',
        lotId,
        status,
        reservationId: reservation === null ? null : reservationIds.get(reservation)!,
        life: life ?? 1,
      }));
      // rows no call would write alone (no lot, reservation or ledger rows behind them): written with triggers and foreign keys off, and rolled back
      const client = await db.pool.connect();
      let found: string[];
      try {
        await client.query('begin');
        await client.query('set local session_replication_role = replica');
        for (const line of lines) {
          await client.query(
            `insert into reservation_lines (id, reservation_id, lot_id, product_id, warehouse_id, quantity, allocated_quantity, shipped_quantity, released_quantity, moved_quantity)
           values ($1, $2, $3, $4, 'wh-1', $5, $6, $7, $8, $9)`,
            [
              uuidv7(),
              line.reservationId,
              lotId,
              line.productId,
              line.quantity,
              line.allocatedQuantity,
              line.shippedQuantity,
              line.releasedQuantity,
              line.movedQuantity,
            ],
          );
        }
        for (const unit of units) {
          await client.query(
            `insert into stock_units (id, product_id, warehouse_id, lot_id, serial_number, status, reservation_id, life) values ($1, $2, 'wh-1', $3, $4, $5, $6, $7)`,
            [uuidv7(), unit.productId, lotId, unit.serialNumber, unit.status, unit.reservationId, unit.life],
          );
        }
        found = await findUnitMismatchLots(client, { subjectIds: [lotId] });
      } finally {
        await client.query('rollback');
        client.release();
      }
      expect(unitDisagreements(lines, units).length > 0).toBe(disagree);
      expect(found).toEqual(disagree ? [lotId] : []);
    },
  );
});

describe('availability: available (src/domain/quantities.ts) and lotAvailableSql (src/db/lot-store.ts)', () => {
  it.each([
    [0, 0, 0, 0],
    [7, 0, 0, 7],
    [10, 3, 2, 5],
    [10, 10, 0, 0],
    [10, 0, 10, 0],
    [10, 4, 6, 0],
    // below zero only if a lot broke its CHECK constraint; the two must still agree
    [10, 6, 5, -1],
    [0, 1, 0, -1],
  ])('on hand %i, reserved %i, allocated %i: both say %i available', async (quantity, reservedQuantity, allocatedQuantity, expected) => {
    expect(available({ quantity, reservedQuantity, allocatedQuantity })).toBe(expected);
    const row = await queryRow<{ available: number }>(
      db.pool,
      `select ${lotAvailableSql} as available from (select $1::int as quantity, $2::int as reserved_quantity, $3::int as allocated_quantity) i`,
      [quantity, reservedQuantity, allocatedQuantity],
    );
    expect(row!.available).toBe(expected);
  });

  it('every reader of stock counts the same available units: none of a fully held lot, the rest of a partly held one', async () => {
    const [full, part] = await receiveLots(db.pool, [
      { productId: 'available-p', warehouseId: 'wh-1', quantity: 10 },
      { productId: 'available-p', warehouseId: 'wh-1', quantity: 10 },
      { productId: 'available-p', warehouseId: 'wh-1', quantity: 7 },
    ]);
    await withTransaction(db.pool, (tx) =>
      commitWrites(tx, {
        movements: [
          { lotId: full!, type: 'RESERVE', reservedDelta: 4, actor: 'test' },
          { lotId: full!, type: 'ALLOCATE', allocatedDelta: 6, actor: 'test' },
          { lotId: part!, type: 'RESERVE', reservedDelta: 3, actor: 'test' },
          { lotId: part!, type: 'ALLOCATE', allocatedDelta: 2, actor: 'test' },
        ],
      }),
    );
    await listedAsLowStock('available-p');
    const readers = await readersOf('available-p');
    expect(readers.lots.map(available).sort((a, b) => a - b)).toEqual([0, 5, 7]);
    expect(readers.servingLotIds).not.toContain(full);
    expect(readers).toMatchObject({
      plannable: 12,
      stockView: { available: 12, expired: 0 },
      lowStockAlertLevel: 12,
      lowStockListLevel: 12,
    });
  });
});

describe('low stock: isLowStock and lowStockSeverity (src/domain/low-stock.ts), isLowStockSql and lowStockSeveritySql (src/db/stock-settings-store.ts)', () => {
  it.each([
    [21, 20, 0, false, 'LOW'],
    [20, 20, 0, true, 'LOW'],
    [0, 0, 0, true, 'CRITICAL'],
    [0, 20, 0, true, 'CRITICAL'],
    [9, 20, 10, true, 'CRITICAL'],
    [10, 20, 10, true, 'LOW'],
  ])('available %i, reorder point %i, minimum %i: both say low = %s, severity %s', async (availableUnits, reorderPoint, minStockLevel, low, severity) => {
    const level = { available: availableUnits, reorderPoint, minStockLevel };
    expect([isLowStock(level), lowStockSeverity(level)]).toEqual([low, severity]);
    const row = await queryRow<{ low: boolean; severity: string }>(
      db.pool,
      `select ${isLowStockSql('l.available', 'l.threshold')} as low, ${lowStockSeveritySql('l.available', 'l.minimum')} as severity
         from (select $1::int as available, $2::int as threshold, $3::int as minimum) l`,
      [availableUnits, reorderPoint, minStockLevel],
    );
    expect(row).toEqual({ low, severity });
  });
});

describe('priority order: byPriorityThenArrival (src/domain/priority.ts) and backorderServingOrderSql (src/db/backorder-store.ts)', () => {
  const backorder = (id: string, priority: Priority, createdAt: Date): NewBackorder => ({
    id,
    owner: 'mirror-test',
    productId: 'priority-p',
    warehouseId: null,
    quantity: 1,
    mode: 'reserve',
    priority,
    strategy: 'fifo',
    reservationId: null,
    allocationId: null,
    referenceType: 'order',
    referenceId: `order-${id.slice(-2)}`,
    customerId: null,
    destinationLatitude: null,
    destinationLongitude: null,
    reservationMinutes: 30,
    actor: 'test',
    createdAt,
  });
  const uuid = (tail: string) => `0190f5e2-7c1a-7b3e-9d4f-2a6c8e1b3d${tail}`;
  // ties on purpose: two critical ones at the same instant (the id decides), a high one older than
  // both, two medium ones and a low one that is the oldest of all
  const served = [
    backorder(uuid('0a'), 'critical', at(0)),
    backorder(uuid('0b'), 'critical', at(0)),
    backorder(uuid('c1'), 'high', at(-60_000)),
    backorder(uuid('c0'), 'high', at(1)),
    backorder(uuid('5f'), 'medium', at(-60_000)),
    backorder(uuid('50'), 'medium', at(0)),
    backorder(uuid('ff'), 'low', at(-120_000)),
  ];
  const expected = served.map((row) => row.id);

  beforeAll(async () => {
    await withTransaction(db.pool, (tx) => commitWrites(tx, { backorders: [...served].reverse() }));
  });

  it('the comparator serves higher priority first, then the earlier, then the lower id', () => {
    for (const shuffled of [[...served].reverse(), [...served.slice(3), ...served.slice(0, 3)]]) {
      expect(shuffled.sort(byPriorityThenArrival).map((row) => row.id)).toEqual(expected);
    }
  });

  it('a fill locks the backorders in that order', async () => {
    const locked = await withTransaction(db.pool, (tx) => lockOpenBackorders(tx, ['priority-p']));
    expect(locked.map((row) => row.id)).toEqual(expected);
  });

  it('GET /backorders lists them in that order, on one page and page by page after a cursor', async () => {
    expect((await listBackorders(db.pool, { productId: 'priority-p', limit: 100 })).map((row) => row.id)).toEqual(expected);
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await listBackorders(db.pool, { productId: 'priority-p', limit: 2, ...(after === undefined ? {} : { after }) });
      paged.push(...page.map((row) => row.id));
      if (page.length < 2) break;
      after = page[page.length - 1]!.id;
    }
    expect(paged).toEqual(expected);
  });
});

describe('snapshot visibility: committedWithin (src/db/snapshots.ts) and pg_visible_in_snapshot', () => {
  it('agree on a transaction running when a snapshot was taken, ended before one, and started after one', async () => {
    const snapshotNow = async () => (await db.pool.query<{ s: string }>(`select pg_current_snapshot()::text as s`)).rows[0]!.s;
    const visibleInPostgres = async (xid: string, snapshot: string) =>
      (await db.pool.query<{ v: boolean }>(`select pg_visible_in_snapshot($1::xid8, $2::pg_snapshot) as v`, [xid, snapshot])).rows[0]!.v;
    const running = await db.pool.connect();
    try {
      await running.query('begin');
      const xid = (await running.query<{ x: string }>(`select pg_current_xact_id()::text as x`)).rows[0]!.x;
      const whileRunning = await snapshotNow();
      await running.query('commit');
      const afterCommit = await snapshotNow();
      const later = (await db.pool.query<{ x: string }>(`select pg_current_xact_id()::text as x`)).rows[0]!.x;
      for (const [transaction, snapshot, seen] of [
        [xid, whileRunning, false],
        [xid, afterCommit, true],
        [later, afterCommit, false],
      ] as const) {
        expect(committedWithin(transaction, snapshot)).toBe(seen);
        expect(await visibleInPostgres(transaction, snapshot)).toBe(seen);
      }
    } finally {
      running.release();
    }
  });
});
