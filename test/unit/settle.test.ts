import { plan } from '../../src/domain/allocate';
import { settleFills, settleRequest, type SettleRequest } from '../../src/domain/settle';
import type { StrategyChoice } from '../../src/domain/strategies';
import { berlin, lot, now, paris } from './lot-fixtures';
import { backorder, sequentialIds } from './settle-fixtures';

const request = (overrides: Partial<Omit<SettleRequest, keyof StrategyChoice>> = {}, choice: StrategyChoice = { strategy: 'fifo' }): SettleRequest => ({
  ...choice,
  mode: 'reserve',
  lines: [{ productId: 'sku-1', quantity: 5 }],
  priority: 'high',
  allowBackorder: false,
  owner: 'tenant-1',
  orderId: 'order-1',
  referenceType: 'order',
  holdMinutes: 30,
  actor: 'checkout',
  ...overrides,
});

const lots = [lot({ n: 1, warehouse: berlin, available: 3, received: 1 }), lot({ n: 2, warehouse: paris, available: 10, received: 2 })];

describe('settleRequest', () => {
  it('holds every take in one RESERVED reservation: a line and a RESERVE movement per lot, history and InventoryReserved', () => {
    const wanted = request();
    const settled = settleRequest(plan({ ...wanted, allowPartial: false }, lots, now), wanted, now, sequentialIds());
    expect(settled.outcome).toBe('complete');
    expect(settled.reservation).toEqual({
      id: 'id-0001',
      owner: 'tenant-1',
      orderId: 'order-1',
      customerId: null,
      status: 'RESERVED',
      priority: 'high',
      strategy: 'fifo',
      expiresAt: new Date(now.getTime() + 30 * 60_000),
      createdAt: now,
    });
    expect(settled.lines.map((line) => [line.id, line.lotId, line.quantity, line.allocatedQuantity])).toEqual([
      ['id-0002', lots[0]!.id, 3, 0],
      ['id-0003', lots[1]!.id, 2, 0],
    ]);
    expect(settled.movements).toEqual([
      {
        lotId: lots[0]!.id,
        type: 'RESERVE',
        reservedDelta: 3,
        reason: 'order order-1',
        referenceType: 'reservation',
        referenceId: 'id-0001',
        actor: 'checkout',
      },
      {
        lotId: lots[1]!.id,
        type: 'RESERVE',
        reservedDelta: 2,
        reason: 'order order-1',
        referenceType: 'reservation',
        referenceId: 'id-0001',
        actor: 'checkout',
      },
    ]);
    expect(settled.history).toEqual([
      { reservationId: 'id-0001', fromStatus: null, toStatus: 'RESERVED', reason: 'reserved for order', reference: 'order-1', actor: 'checkout', at: now },
    ]);
    expect(settled.events).toEqual([
      {
        type: 'InventoryReserved',
        reservationId: 'id-0001',
        orderId: 'order-1',
        customerId: null,
        items: [
          { productId: 'sku-1', warehouseId: berlin.id, quantity: 3 },
          { productId: 'sku-1', warehouseId: paris.id, quantity: 2 },
        ],
        expiresAt: new Date(now.getTime() + 30 * 60_000),
        timestamp: now,
      },
    ]);
    expect(settled.backorders).toEqual([]);
    expect(settled.failedLines).toEqual([]);
  });

  it('allocates at once in allocate mode, naming the allocation job in InventoryAllocated', () => {
    const wanted = request({ mode: 'allocate', allocationId: 'job-1' });
    const settled = settleRequest(plan({ ...wanted, allowPartial: false }, lots, now), wanted, now, sequentialIds());
    expect(settled.reservation?.status).toBe('ALLOCATED');
    expect(settled.lines.every((line) => line.allocatedQuantity === line.quantity)).toBe(true);
    expect(settled.movements.map((movement) => [movement.type, movement.allocatedDelta, movement.reservedDelta])).toEqual([
      ['ALLOCATE', 3, undefined],
      ['ALLOCATE', 2, undefined],
    ]);
    expect(settled.history[0]?.reason).toBe('allocated for order without a reservation');
    expect(settled.events[0]).toMatchObject({ type: 'InventoryAllocated', allocationId: 'job-1', reservationId: 'id-0001' });
  });

  it('backorders what a partial request missed, linked to its reservation, with the request priority', () => {
    const wanted = request(
      { lines: [{ productId: 'sku-1', quantity: 20 }], allowBackorder: true },
      { strategy: 'fifo', destination: { latitude: 1, longitude: 2 } },
    );
    const settled = settleRequest(plan({ ...wanted, allowPartial: true }, lots, now), wanted, now, sequentialIds());
    expect(settled.outcome).toBe('partial');
    expect(settled.failedLines).toEqual([
      {
        lineIndex: 0,
        productId: 'sku-1',
        requestedQuantity: 20,
        availableQuantity: 13,
        reason: 'insufficient_inventory',
        errorMessage: 'Only 13 available, 20 requested',
      },
    ]);
    expect(settled.backorders).toEqual([
      expect.objectContaining({
        owner: 'tenant-1',
        productId: 'sku-1',
        warehouseId: null,
        quantity: 7,
        priority: 'high',
        reservationId: settled.reservation!.id,
        destinationLatitude: 1,
        destinationLongitude: 2,
        reservationMinutes: 30,
      }),
    ]);
    expect(settled.events.map((event) => event.type)).toEqual(['InventoryReserved', 'BackorderCreated']);
  });

  it('backorders the whole of each line when an all-or-nothing request took nothing, but never a line of an unknown product or warehouse', () => {
    const wanted = request({
      lines: [
        { productId: 'sku-1', quantity: 20 },
        { productId: 'sku-ghost', quantity: 1 },
        { productId: 'sku-1', quantity: 1, warehouseId: 'wh-ghost' },
      ],
      allowBackorder: true,
    });
    const unknown = { products: new Set(['sku-ghost']), warehouses: new Set(['wh-ghost']) };
    const settled = settleRequest(plan({ ...wanted, allowPartial: false }, lots, now), wanted, now, sequentialIds(), unknown);
    expect(settled.outcome).toBe('none');
    expect(settled.reservation).toBeNull();
    expect(settled.lines).toEqual([]);
    expect(settled.backorders.map((backorder) => [backorder.productId, backorder.quantity, backorder.reservationId])).toEqual([['sku-1', 20, null]]);
    expect(settled.failedLines.map((line) => [line.productId, line.reason, line.errorMessage])).toEqual([
      ['sku-1', 'insufficient_inventory', 'Only 13 available, 20 requested'],
      ['sku-ghost', 'unknown_product', 'Product sku-ghost is not in the catalogue'],
      ['sku-1', 'insufficient_inventory', 'Warehouse wh-ghost does not exist'],
    ]);
  });
});

describe('settleFills', () => {
  const fill = (quantity: number) => plan({ lines: [{ productId: 'sku-1', quantity }], strategy: 'fifo', priority: 'medium', allowPartial: true }, lots, now);

  it('adds the units to the backorder reservation when it is free, RESERVED and not expired', () => {
    const settled = settleFills(
      [backorder({ reservationId: 'res-1' })],
      [fill(5)],
      new Map([['res-1', { id: 'res-1', status: 'RESERVED' as const, expiresAt: new Date(now.getTime() + 1) }]]),
      now,
      'ops',
      sequentialIds(),
    );
    expect(settled.reservations).toEqual([]);
    expect(settled.joined).toEqual(['res-1']);
    expect(settled.lines.every((line) => line.reservationId === 'res-1')).toBe(true);
    expect(settled.fills).toEqual([{ backorderId: 'bo-1', productId: 'sku-1', reservationId: 'res-1', quantity: 5, fulfilled: true }]);
    expect(settled.events).toEqual([
      expect.objectContaining({
        type: 'BackorderFulfilled',
        backorderId: 'bo-1',
        quantity: 5,
        fulfilledQuantity: 5,
        remainingQuantity: 0,
        status: 'FULFILLED',
      }),
    ]);
  });

  it('opens one new reservation per original request when the backorder reservation is busy, expired or in another state', () => {
    const busy = backorder({ id: 'bo-1', reservationId: 'res-busy', quantity: 2 });
    const sibling = backorder({ id: 'bo-2', reservationId: 'res-busy', quantity: 2 });
    const expired = backorder({ id: 'bo-3', reservationId: 'res-old', referenceId: 'order-2', quantity: 2 });
    const settled = settleFills(
      [busy, sibling, expired],
      [fill(2), fill(2), fill(2)],
      new Map([['res-old', { id: 'res-old', status: 'RESERVED' as const, expiresAt: now }]]),
      now,
      'ops',
      sequentialIds(),
    );
    expect(settled.joined).toEqual([]);
    expect(settled.reservations.map((reservation) => [reservation.orderId, reservation.status, reservation.priority])).toEqual([
      ['order-1', 'RESERVED', 'medium'],
      ['order-2', 'RESERVED', 'medium'],
    ]);
    expect(settled.fills.map((one) => one.reservationId)).toEqual([settled.reservations[0]!.id, settled.reservations[0]!.id, settled.reservations[1]!.id]);
    expect(settled.history.map((change) => change.reason)).toEqual(['backorder filled', 'backorder filled']);
  });

  it("gives a new reservation the backorder's owner, and never puts two owners' units of one order id in one reservation", () => {
    const mine = backorder({ id: 'bo-1', owner: 'tenant-a', quantity: 2 });
    const theirs = backorder({ id: 'bo-2', owner: 'tenant-b', quantity: 2 });
    const settled = settleFills([mine, theirs], [fill(2), fill(2)], new Map(), now, 'ops', sequentialIds());
    expect(settled.reservations.map((reservation) => [reservation.owner, reservation.orderId])).toEqual([
      ['tenant-a', 'order-1'],
      ['tenant-b', 'order-1'],
    ]);
    expect(settled.fills.map((one) => one.reservationId)).toEqual(settled.reservations.map((reservation) => reservation.id));
  });

  it('fills in part, leaving the backorder OPEN with what remains, and skips backorders whose plan took nothing', () => {
    const settled = settleFills(
      [backorder({ quantity: 20, fulfilledQuantity: 4 }), backorder({ id: 'bo-2' })],
      [fill(16), fill(0)],
      new Map(),
      now,
      'ops',
      sequentialIds(),
    );
    expect(settled.fills).toEqual([expect.objectContaining({ backorderId: 'bo-1', quantity: 13, fulfilled: false })]);
    expect(settled.events).toEqual([expect.objectContaining({ fulfilledQuantity: 17, remainingQuantity: 3, status: 'OPEN' })]);
  });
});
