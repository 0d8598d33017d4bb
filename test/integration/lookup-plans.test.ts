import type { Queryable } from '../../src/db/client';
import { findBackorders } from '../../src/inventory/backorders/backorders';
import { findReservations } from '../../src/inventory/reservations/lookup';
import { findTransfers } from '../../src/inventory/transfers/transfer';
import { listBackordersQuery } from '../../src/schemas/backorders';
import { listReservationsQuery } from '../../src/schemas/reservations';
import { listTransfersQuery } from '../../src/schemas/transfers';
import { scopeOf } from '../../src/domain/ownership';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * The lookups of GET /inventory/reservations and GET /backorders on tables of realistic size: every
 * filter must be served by an index, never by reading a whole big table. The tables are analysed
 * here (autovacuum may be off), and the plans are read through the same use cases the routes call.
 */

let db: TestDatabase;
const bigTables = ['reservations', 'reservation_lines', 'backorder_items', 'transfers', 'transfer_items'];
const now = new Date('2026-06-01T00:00:00Z');
// an admin sees every owner's objects; a service caller only its own, one owner of forty
const everyone = scopeOf({ sub: 'ops', role: 'admin' });
const tenant = scopeOf({ sub: 'checkout', role: 'service', tenant: 'tenant-7' });

beforeAll(async () => {
  db = await createTestDatabase('lookup-plans');
  await db.pool.query(`
    select setseed(0.42);
    -- wh-11 is a warehouse few lines come from; each of the others holds a line of a fifth of all reservations
    insert into warehouses (id, code, name) select 'wh-' || n, 'W' || n, 'W' || n from generate_series(1, 11) n;
    insert into products (id, sku, name) select 'p-' || n, 'S' || n, 'P' || n from generate_series(1, 4000) n;
    insert into inventory_items (id, product_id, warehouse_id, quantity, received_at)
      select gen_random_uuid(), 'p-' || p, 'wh-' || w, 0, now() from generate_series(1, 4000) p, generate_series(1, 11) w;
    insert into reservations (id, owner, order_id, status, expires_at, created_at, updated_at)
      select gen_random_uuid(), 'tenant-' || (n % 40), 'order-' || (n % 20000),
             -- as in a service that has run a while: most reservations are done with
             case when n % 100 < 3 then 'RESERVED' when n % 100 < 5 then 'ALLOCATED' when n % 100 < 60 then 'FULFILLED'
                  when n % 100 < 85 then 'RELEASED' else 'EXPIRED' end,
             timestamptz '2026-06-01' + (n % 1000 - 500) * interval '1 minute',
             timestamptz '2026-05-01' + n * interval '30 seconds', timestamptz '2026-05-01' + n * interval '30 seconds'
        from generate_series(1, 60000) n;
    insert into reservation_lines (id, reservation_id, lot_id, product_id, warehouse_id, quantity)
      select gen_random_uuid(), r.id, i.id, i.product_id, i.warehouse_id, 1
        from (select id, row_number() over () as n from reservations) r,
             generate_series(0, 1) k,
             lateral (select id, product_id, warehouse_id from inventory_items
                       where product_id = 'p-' || (1 + (r.n * 7 + k * 13) % 4000)
                         and warehouse_id = 'wh-' || case when r.n % 500 = 0 and k = 0 then 11 else 1 + (r.n + k) % 10 end) i;
    insert into backorder_items (id, owner, product_id, warehouse_id, quantity, status, priority, reservation_id, reference_type, reference_id, actor, created_at, updated_at)
      select gen_random_uuid(), 'tenant-' || (n % 40), 'p-' || (1 + n % 4000), case when n % 4 = 0 then 'wh-' || (1 + n % 10) end, 3,
             case when n % 100 < 5 then 'OPEN' when n % 100 < 80 then 'FULFILLED' else 'CANCELLED' end, (array['low', 'medium', 'high', 'critical'])[1 + (n % 4)]::request_priority,
             r.id, 'order', 'order-' || (n % 20000), 'test',
             timestamptz '2026-05-01' + n * interval '1 minute', timestamptz '2026-05-01' + n * interval '1 minute'
        from (select id, row_number() over (order by id) as n from reservations) r
       where n <= 30000;
    insert into transfers (id, from_warehouse_id, to_warehouse_id, status, expected_delivery, actor, created_at, updated_at)
      select gen_random_uuid(), 'wh-' || (1 + n % 10), 'wh-' || (1 + (n + 3) % 10),
             -- most transfers arrived long ago; a few are on their way
             case when n % 1000 < 5 then 'IN_TRANSIT' when n % 1000 < 8 then 'PARTIALLY_RECEIVED' when n % 1000 < 950 then 'RECEIVED' else 'CANCELLED' end,
             timestamptz '2026-05-01' + n * interval '2 minutes', 'test',
             timestamptz '2026-04-01' + n * interval '2 minutes', timestamptz '2026-04-01' + n * interval '2 minutes'
        from generate_series(1, 30000) n;
    insert into transfer_items (transfer_id, product_id, quantity)
      select id, 'p-' || (1 + (row_number() over (order by id)) % 4000), 5 from transfers;
  `);
  for (const table of bigTables) await db.pool.query(`vacuum analyze ${table}`);
}, 240_000);
afterAll(async () => db.drop());

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Cond'?: string; Plans?: PlanNode[] };

/** A Queryable that explains every statement instead of running it, and keeps the plans. */
function explaining(): { db: Queryable; plans: PlanNode[] } {
  const plans: PlanNode[] = [];
  const query = async (text: string, values: unknown[]) => {
    const result = await db.pool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`explain (format json) ${text}`, values);
    plans.push(result.rows[0]!['QUERY PLAN'][0]!.Plan);
    return { rows: [] };
  };
  return { db: { query } as unknown as Queryable, plans };
}

function sequentialScans(node: PlanNode): string[] {
  const own = node['Node Type'] === 'Seq Scan' && bigTables.includes(node['Relation Name'] ?? '') ? [node['Relation Name']!] : [];
  return [...own, ...(node.Plans ?? []).flatMap(sequentialScans)];
}

/** The conditions index scans of the plan search by: a filter served by an index appears here, not as a row filter. */
function indexConditions(node: PlanNode): string[] {
  return [...(node['Index Cond'] ? [node['Index Cond']] : []), ...(node.Plans ?? []).flatMap(indexConditions)];
}

/** Checks a plan reads no big table whole and looks each of `columns` up in an index. */
function expectIndexed(plan: PlanNode, columns: readonly string[]): void {
  expect(sequentialScans(plan)).toEqual([]);
  const conditions = indexConditions(plan).join(' ');
  expect(columns.filter((column) => !conditions.includes(column))).toEqual([]);
}

async function someId(table: string): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(`select id from ${table} order by id offset 777 limit 1`);
  return rows[0]!.id;
}

describe('reservation lookups use an index for every filter', () => {
  // a filter most rows pass is best served by reading the newest rows in order (no column to look up)
  const filters: [Record<string, string>, string[]][] = [
    [{}, []],
    [{ orderId: 'order-123' }, ['order_id']],
    [{ status: 'RESERVED' }, ['status']],
    [{ status: 'ALLOCATED' }, ['status']],
    [{ status: 'RESERVED,ALLOCATED' }, ['status']],
    [{ status: 'EXPIRED' }, []],
    [{ status: 'FULFILLED,RELEASED' }, []],
    [{ productId: 'p-7' }, ['product_id']],
    [{ warehouseId: 'wh-11' }, ['warehouse_id']],
    // a fifth of the reservations pass: the newest rows in order, or the index, as the statistics say
    [{ warehouseId: 'wh-3' }, []],
    [{ productId: 'p-7', status: 'RESERVED' }, ['product_id']],
    [{ orderId: 'order-42', status: 'EXPIRED' }, ['order_id']],
    [{ createdFrom: '2026-05-10T00:00:00Z', createdTo: '2026-05-11T00:00:00Z' }, ['created_at']],
    // one minute of a thousand: over a window five times as wide, reading the newest rows in order
    // until the page is full is priced within a fifth of the expiry index, and won on some samples
    [{ expiresFrom: '2026-06-01T01:00:00Z', expiresTo: '2026-06-01T01:01:00Z' }, ['expires_at']],
    [{ status: 'RESERVED', createdTo: '2026-05-02T00:00:00Z' }, ['status', 'created_at']],
  ];

  it.each(filters)('%j looks up %j in an index', async (filter, columns) => {
    const { db: explained, plans } = explaining();
    await findReservations(explained, listReservationsQuery.parse(filter), now, everyone);
    expect(plans).toHaveLength(1);
    expectIndexed(plans[0]!, columns);
  });

  it.each([
    [{}, ['owner']],
    [{ orderId: 'order-123' }, ['order_id']],
  ] as [Record<string, string>, string[]][])("%j of one owner's looks up %j in an index", async (filter, columns) => {
    const { db: explained, plans } = explaining();
    await findReservations(explained, listReservationsQuery.parse(filter), now, tenant);
    expectIndexed(plans[0]!, columns);
  });

  it('after a cursor', async () => {
    const { db: explained, plans } = explaining();
    await findReservations(explained, listReservationsQuery.parse({ cursor: await someId('reservations'), status: 'RESERVED' }), now, everyone);
    expectIndexed(plans[0]!, ['status', 'created_at']);
  });
});

describe('backorder lookups use an index for every filter', () => {
  const filters: [Record<string, string>, string[]][] = [
    [{}, []],
    [{ productId: 'p-9' }, ['product_id']],
    [{ warehouseId: 'wh-2' }, ['warehouse_id']],
    [{ status: 'OPEN' }, ['status']],
    [{ priority: 'critical' }, ['priority']],
    [{ status: 'FULFILLED,CANCELLED' }, []],
    [{ orderId: 'order-77' }, ['reference_id']],
    [{ createdFrom: '2026-05-03T00:00:00Z', createdTo: '2026-05-03T06:00:00Z' }, ['created_at']],
    [{ productId: 'p-9', status: 'OPEN' }, ['product_id']],
    [{ offset: '200' }, []],
  ];

  it.each(filters)('%j looks up %j in an index', async (filter, columns) => {
    const { db: explained, plans } = explaining();
    await findBackorders(explained, listBackordersQuery.parse(filter), everyone);
    expectIndexed(plans[0]!, columns);
  });

  it.each([
    [{}, ['owner']],
    [{ orderId: 'order-77' }, ['reference_id']],
  ] as [Record<string, string>, string[]][])("%j of one owner's looks up %j in an index", async (filter, columns) => {
    const { db: explained, plans } = explaining();
    await findBackorders(explained, listBackordersQuery.parse(filter), tenant);
    expectIndexed(plans[0]!, columns);
  });

  it('by reservation and after a cursor', async () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ reservationId: await someId('reservations') }, ['reservation_id']],
      [{ cursor: await someId('backorder_items'), status: 'OPEN' }, ['status', 'priority']],
    ];
    for (const [filter, columns] of cases) {
      const { db: explained, plans } = explaining();
      await findBackorders(explained, listBackordersQuery.parse(filter), everyone);
      expectIndexed(plans[0]!, columns);
    }
  });
});

describe('transfer lookups use an index for every filter', () => {
  const filters: [Record<string, string>, string[]][] = [
    [{}, []],
    [{ status: 'IN_TRANSIT' }, ['status']],
    [{ status: 'IN_TRANSIT,PARTIALLY_RECEIVED' }, ['status']],
    [{ status: 'RECEIVED' }, []],
    [{ fromWarehouseId: 'wh-4' }, []],
    [{ toWarehouseId: 'wh-4', status: 'IN_TRANSIT' }, ['status']],
    [{ warehouseId: 'wh-4' }, []],
    [{ productId: 'p-9' }, ['product_id']],
    [{ overdue: 'true' }, ['status']],
    [{ createdFrom: '2026-04-10T00:00:00Z', createdTo: '2026-04-10T06:00:00Z' }, ['created_at']],
  ];

  it.each(filters)('%j looks up %j in an index', async (filter, columns) => {
    const { db: explained, plans } = explaining();
    await findTransfers(explained, listTransfersQuery.parse(filter), now);
    expectIndexed(plans[0]!, columns);
  });
});
