import fc from 'fast-check';
import type { LotMovement } from '../../src/domain/movement';
import {
  checkUnitTransition,
  comingIn,
  currentLives,
  lotCountsOf,
  shiftOf,
  takeNamedUnits,
  unitMoves,
  unitStatuses,
  unitCountsOfLine,
  unitDisagreements,
  unitTransitions,
  unitsHandedOver,
  whyNotMarked,
  rederiveUnits,
  markTargets,
  type ReservationUnit,
  type UnitLine,
  type ReceivedUnit,
  type StockUnit,
  type UnitStatus,
} from '../../src/domain/units';

fc.configureGlobal({ numRuns: 300 });

const allowed: ReadonlySet<string> = new Set([
  'AVAILABLE->RESERVED',
  'AVAILABLE->SOLD',
  'AVAILABLE->WRITTEN_OFF',
  'RESERVED->AVAILABLE',
  'RESERVED->SOLD',
  'SOLD->DELIVERED',
]);
const everyPair = unitStatuses.flatMap((from) => unitStatuses.map((to): [UnitStatus, UnitStatus] => [from, to]));

describe('checkUnitTransition (seed 004 table)', () => {
  it('covers all 25 pairs of statuses', () => {
    expect(everyPair).toHaveLength(25);
  });

  it.each(everyPair.filter(([from, to]) => allowed.has(`${from}->${to}`)))('allows %s -> %s', (from, to) => {
    expect(checkUnitTransition(from, to)).toBeNull();
  });

  it.each(everyPair.filter(([from, to]) => !allowed.has(`${from}->${to}`)))('refuses %s -> %s naming the unit status', (from, to) => {
    expect(checkUnitTransition(from, to)).toEqual({ code: 'INVALID_TRANSITION', from, to, message: expect.stringContaining(`Unit is ${from}`) });
  });

  it('refuses Available -> Delivered: a unit is sold before it is delivered', () => {
    expect(checkUnitTransition('AVAILABLE', 'DELIVERED')?.message).toBe(
      'Unit is AVAILABLE and cannot become DELIVERED; it can only become RESERVED or SOLD or WRITTEN_OFF',
    );
  });

  it('refuses Reserved -> Reserved: a reserved unit cannot be reserved again', () => {
    expect(checkUnitTransition('RESERVED', 'RESERVED')).not.toBeNull();
  });

  it('keeps Delivered and Written off final', () => {
    expect(unitTransitions.DELIVERED).toEqual([]);
    expect(checkUnitTransition('DELIVERED', 'AVAILABLE')?.message).toBe('Unit is DELIVERED and cannot become AVAILABLE; it is final');
    expect(unitTransitions.WRITTEN_OFF).toEqual([]);
  });
});

describe('shiftOf', () => {
  const movement = (type: LotMovement['type'], quantityDelta: number, reservedDelta: number, allocatedDelta: number) => ({
    type,
    quantityDelta,
    reservedDelta,
    allocatedDelta,
  });

  it.each([
    ['RESERVE', 0, 2, 0, 'AVAILABLE', 'RESERVED'],
    ['ALLOCATE', 0, -2, 2, 'RESERVED', 'SOLD'],
    ['ALLOCATE', 0, 0, 2, 'AVAILABLE', 'SOLD'],
    ['RELEASE', 0, -2, 0, 'RESERVED', 'AVAILABLE'],
    ['EXPIRE', 0, -2, 0, 'RESERVED', 'AVAILABLE'],
    ['SHIP', -2, 0, -2, 'SOLD', 'DELIVERED'],
    ['RECEIPT', 2, 0, 0, null, 'AVAILABLE'],
    ['WRITE_OFF', -2, 0, 0, 'AVAILABLE', 'WRITTEN_OFF'],
  ] as const)('reads a %s of %i/%i/%i as %s -> %s of 2 units', (type, q, r, a, from, to) => {
    expect(shiftOf(movement(type, q, r, a))).toMatchObject({ from, to, count: 2 });
  });

  it('only ever reads moves the table allows', () => {
    for (const [type, q, r, a] of [
      ['RESERVE', 0, 1, 0],
      ['ALLOCATE', 0, -1, 1],
      ['ALLOCATE', 0, 0, 1],
      ['RELEASE', 0, -1, 0],
      ['SHIP', -1, 0, -1],
      ['WRITE_OFF', -1, 0, 0],
    ] as const) {
      const shift = shiftOf(movement(type, q, r, a));
      expect(checkUnitTransition(shift.from!, shift.to)).toBeNull();
    }
  });

  it('throws on a movement that stands for no unit move (a bug in its caller)', () => {
    expect(() => shiftOf(movement('ADJUSTMENT', 1, 1, 0))).toThrow('moves no unit state');
  });
});

const unit = (id: string, status: UnitStatus, reservationId: string | null = null, lotId = 'lot-1'): StockUnit => ({
  id,
  serialNumber: `SN-${id}`,
  lotId,
  status,
  reservationId,
});
const move = (fields: Partial<LotMovement> & Pick<LotMovement, 'type'>): LotMovement => ({ lotId: 'lot-1', actor: 'tester', ...fields });

describe('unitMoves', () => {
  it('reserves available units by serial number order, naming the reservation and the movement in the history', () => {
    const moves = unitMoves(
      [move({ type: 'RESERVE', reservedDelta: 2, referenceType: 'reservation', referenceId: 'res-1', reason: 'order o-1' })],
      [unit('3', 'AVAILABLE'), unit('1', 'AVAILABLE'), unit('2', 'AVAILABLE')],
      [],
    );
    expect(moves.changes).toEqual([
      { id: '1', status: 'RESERVED', reservationId: 'res-1' },
      { id: '2', status: 'RESERVED', reservationId: 'res-1' },
    ]);
    expect(moves.steps[0]).toEqual({
      unitId: '1',
      fromStatus: 'AVAILABLE',
      toStatus: 'RESERVED',
      reservationId: 'res-1',
      reason: 'order o-1',
      reference: 'res-1',
      actor: 'tester',
    });
  });

  it('takes the serial numbers the reservation asked for, and leaves those another asked for to the last', () => {
    const units = [unit('1', 'AVAILABLE'), unit('2', 'AVAILABLE'), unit('3', 'AVAILABLE')];
    const chosen = new Map([
      ['res-1', new Set(['SN-3'])],
      ['res-2', new Set(['SN-1'])],
    ]);
    const moves = unitMoves(
      [
        move({ type: 'RESERVE', reservedDelta: 1, referenceType: 'reservation', referenceId: 'res-3' }),
        move({ type: 'RESERVE', reservedDelta: 1, referenceType: 'reservation', referenceId: 'res-1' }),
        move({ type: 'RESERVE', reservedDelta: 1, referenceType: 'reservation', referenceId: 'res-2' }),
      ],
      units,
      [],
      chosen,
    );
    expect(moves.changes.map((change) => [change.id, change.reservationId])).toEqual([
      ['2', 'res-3'],
      ['3', 'res-1'],
      ['1', 'res-2'],
    ]);
  });

  it('allocates, releases and ships only the units of the movement reservation', () => {
    const units = [unit('1', 'RESERVED', 'res-1'), unit('2', 'RESERVED', 'res-2'), unit('3', 'SOLD', 'res-2')];
    const moves = unitMoves(
      [
        move({ type: 'ALLOCATE', reservedDelta: -1, allocatedDelta: 1, referenceType: 'reservation', referenceId: 'res-2' }),
        move({ type: 'SHIP', quantityDelta: -2, allocatedDelta: -2, referenceType: 'reservation', referenceId: 'res-2' }),
        move({ type: 'RELEASE', reservedDelta: -1, referenceType: 'reservation', referenceId: 'res-1' }),
      ],
      units,
      [],
    );
    expect(moves.changes).toEqual([
      { id: '2', status: 'DELIVERED', reservationId: 'res-2' },
      { id: '3', status: 'DELIVERED', reservationId: 'res-2' },
      { id: '1', status: 'AVAILABLE', reservationId: null },
    ]);
    expect(moves.steps.filter((step) => step.unitId === '2').map((step) => [step.fromStatus, step.toStatus])).toEqual([
      ['RESERVED', 'SOLD'],
      ['SOLD', 'DELIVERED'],
    ]);
  });

  it('registers received units as available, lot by lot', () => {
    const received: ReceivedUnit[] = [
      { id: 'u1', productId: 'p', warehouseId: 'w', lotId: 'lot-1', serialNumber: 'A', condition: 'New', life: 1, previousUnitId: null },
      { id: 'u2', productId: 'p', warehouseId: 'w', lotId: 'lot-2', serialNumber: 'B', condition: 'Refurbished', life: 2, previousUnitId: 'u0' },
    ];
    const moves = unitMoves([move({ type: 'RECEIPT', quantityDelta: 1, lotId: 'lot-2' }), move({ type: 'RECEIPT', quantityDelta: 1 })], [], received);
    expect(moves.received.map((received) => received.id)).toEqual(['u2', 'u1']);
    expect(moves.steps.map((step) => [step.unitId, step.fromStatus, step.toStatus])).toEqual([
      ['u2', null, 'AVAILABLE'],
      ['u1', null, 'AVAILABLE'],
    ]);
  });

  it('throws when a lot lacks the units a movement moves', () => {
    expect(() =>
      unitMoves([move({ type: 'RESERVE', reservedDelta: 2, referenceType: 'reservation', referenceId: 'r' })], [unit('1', 'AVAILABLE')], []),
    ).toThrow('has 1 AVAILABLE units');
    expect(() => unitMoves([move({ type: 'RECEIPT', quantityDelta: 1 })], [], [])).toThrow('receives 1 units but 0 serial numbers');
  });
});

type Op =
  | { kind: 'receive'; count: number }
  | { kind: 'reserve' | 'sell'; reservation: number; count: number }
  | { kind: 'allocate' | 'release' | 'ship'; reservation: number; count: number }
  | { kind: 'write_off'; count: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('receive' as const), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constantFrom('reserve' as const, 'sell' as const), reservation: fc.integer({ min: 0, max: 2 }), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constantFrom('allocate' as const, 'release' as const, 'ship' as const),
    reservation: fc.integer({ min: 0, max: 2 }),
    count: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant('write_off' as const), count: fc.integer({ min: 1, max: 2 }) }),
);

describe('unitMoves properties', () => {
  it('keeps a lot quantities equal to the counts of its units, moving units only along the table', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        let units: StockUnit[] = [];
        const lot = { quantity: 0, reservedQuantity: 0, allocatedQuantity: 0 };
        let serial = 0;
        for (const op of ops) {
          const reservationId = 'reservation' in op ? `res-${op.reservation}` : null;
          const count = (status: UnitStatus) =>
            units.filter((u) => u.status === status && (reservationId === null || u.reservationId === reservationId)).length;
          const free = units.filter((u) => u.status === 'AVAILABLE').length;
          const ref = { referenceType: 'reservation', referenceId: reservationId };
          let movement: LotMovement | null = null;
          const received: ReceivedUnit[] = [];
          if (op.kind === 'receive') {
            for (let i = 0; i < op.count; i += 1) {
              serial += 1;
              received.push({
                id: `u${serial}`,
                productId: 'p',
                warehouseId: 'w',
                lotId: 'lot-1',
                serialNumber: `SN-${String(serial).padStart(4, '0')}`,
                condition: 'New',
                life: 1,
                previousUnitId: null,
              });
            }
            movement = move({ type: 'RECEIPT', quantityDelta: op.count });
          } else if (op.kind === 'reserve' && free >= op.count) movement = move({ type: 'RESERVE', reservedDelta: op.count, ...ref });
          else if (op.kind === 'sell' && free >= op.count) movement = move({ type: 'ALLOCATE', allocatedDelta: op.count, ...ref });
          else if (op.kind === 'allocate' && count('RESERVED') >= op.count)
            movement = move({ type: 'ALLOCATE', reservedDelta: -op.count, allocatedDelta: op.count, ...ref });
          else if (op.kind === 'release' && count('RESERVED') >= op.count) movement = move({ type: 'RELEASE', reservedDelta: -op.count, ...ref });
          else if (op.kind === 'ship' && count('SOLD') >= op.count)
            movement = move({ type: 'SHIP', quantityDelta: -op.count, allocatedDelta: -op.count, ...ref });
          else if (op.kind === 'write_off' && free >= op.count) movement = move({ type: 'WRITE_OFF', quantityDelta: -op.count });
          if (movement === null) continue;

          const moves = unitMoves([movement], units, received);
          for (const step of moves.steps) if (step.fromStatus !== null) expect(checkUnitTransition(step.fromStatus, step.toStatus)).toBeNull();
          const changes = new Map(moves.changes.map((change) => [change.id, change]));
          units = [
            ...units.map((u) => ({ ...u, ...changes.get(u.id) })),
            ...moves.received.map((r): StockUnit => ({ id: r.id, serialNumber: r.serialNumber, lotId: r.lotId, status: 'AVAILABLE', reservationId: null })),
          ];
          lot.quantity += movement.quantityDelta ?? 0;
          lot.reservedQuantity += movement.reservedDelta ?? 0;
          lot.allocatedQuantity += movement.allocatedDelta ?? 0;
          expect(lotCountsOf(units.map((u) => u.status))).toEqual(lot);
          for (const u of units) expect(u.reservationId === null).toBe(u.status === 'AVAILABLE' || u.status === 'WRITTEN_OFF');
        }
      }),
    );
  });

  it('never gives one unit to two reservations, and honours every claim that fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 8 }), (size, claimed) => {
        const units = Array.from({ length: size }, (_, i) => unit(String(i), 'AVAILABLE'));
        const named = [...new Set(claimed.filter((i) => i < size))];
        const chosen = new Map([['res-named', new Set(named.map((i) => `SN-${i}`))]]);
        const others = size - named.length;
        const moves = unitMoves(
          [
            move({ type: 'RESERVE', reservedDelta: others, referenceType: 'reservation', referenceId: 'res-other' }),
            ...(named.length > 0 ? [move({ type: 'RESERVE', reservedDelta: named.length, referenceType: 'reservation', referenceId: 'res-named' })] : []),
          ].filter((m) => (m.reservedDelta ?? 0) > 0),
          units,
          [],
          chosen,
        );
        expect(new Set(moves.changes.map((change) => change.id)).size).toBe(moves.changes.length);
        const namedTaken = moves.changes.filter((change) => change.reservationId === 'res-named').map((change) => `SN-${change.id}`);
        expect(namedTaken.sort()).toEqual(named.map((i) => `SN-${i}`).sort());
      }),
    );
  });
});

describe('takeNamedUnits', () => {
  const named = (serialNumber: string, lotId: string, status: UnitStatus = 'AVAILABLE', warehouseId = 'w1') =>
    [serialNumber, { serialNumber, lotId, warehouseId, status }] as const;
  const units = new Map([named('A', 'lot-1'), named('B', 'lot-2'), named('C', 'lot-2'), named('D', 'lot-1', 'SOLD'), named('E', 'lot-3', 'AVAILABLE', 'w2')]);
  const serving = new Set(['lot-1', 'lot-2']);

  it('takes every unit named from the lots they are in, and marks them taken', () => {
    const taken = new Set<string>();
    expect(takeNamedUnits(['C', 'A', 'B'], units, serving, undefined, taken)).toEqual({
      fromLots: [
        { lotId: 'lot-2', quantity: 2 },
        { lotId: 'lot-1', quantity: 1 },
      ],
      unavailable: [],
    });
    expect([...taken].sort()).toEqual(['A', 'B', 'C']);
  });

  it('takes nothing when any unit cannot be had, naming each and why', () => {
    const taken = new Set(['B']);
    expect(takeNamedUnits(['A', 'B', 'D', 'E', 'Z'], units, serving, 'w1', taken)).toEqual({
      fromLots: [],
      unavailable: [
        { serialNumber: 'B', status: 'RESERVED' },
        { serialNumber: 'D', status: 'SOLD' },
        { serialNumber: 'E', status: 'ELSEWHERE' },
        { serialNumber: 'Z', status: 'UNKNOWN' },
      ],
    });
    expect(takeNamedUnits(['E'], units, serving, undefined, new Set()).unavailable).toEqual([{ serialNumber: 'E', status: 'NOT_SERVING' }]);
    expect([...taken]).toEqual(['B']);
  });

  it('gives a unit to the first of two requests naming it', () => {
    fc.assert(
      fc.property(fc.array(fc.subarray(['A', 'B', 'C'], { minLength: 1 }), { maxLength: 6 }), (requests) => {
        const taken = new Set<string>();
        const granted = requests.map((serials) => takeNamedUnits(serials, units, serving, undefined, taken));
        const owners = new Map<string, number>();
        granted.forEach((grant, index) => {
          if (grant.unavailable.length > 0) return;
          for (const serial of requests[index]!) {
            expect(owners.has(serial)).toBe(false);
            owners.set(serial, index);
          }
        });
      }),
    );
  });
});

describe('whyNotMarked', () => {
  it('moves Reserved units to Sold and Sold units to Delivered, and nothing else', () => {
    const moved = markTargets.flatMap((target) =>
      unitStatuses.filter((status) => whyNotMarked(status, target) === null).map((status) => `${status}->${target}`),
    );
    expect(moved).toEqual(['RESERVED->SOLD', 'SOLD->DELIVERED']);
  });

  it('says the transition table refuses the move, or that an allowed move is not made through a reservation', () => {
    expect(whyNotMarked('DELIVERED', 'SOLD')).toMatch(/Unit is DELIVERED and cannot become SOLD; it is final/);
    expect(whyNotMarked('RESERVED', 'DELIVERED')).toMatch(/it can only become AVAILABLE or SOLD/);
    expect(whyNotMarked('AVAILABLE', 'SOLD')).toMatch(/direct allocation/);
  });
});

describe('unitDisagreements', () => {
  const line = (reservationId: string, lotId: string, parts: Partial<UnitLine> = {}): UnitLine => ({
    reservationId,
    lotId,
    productId: 'p',
    quantity: 3,
    allocatedQuantity: 0,
    shippedQuantity: 0,
    releasedQuantity: 0,
    movedQuantity: 0,
    ...parts,
  });
  const unit = (serialNumber: string, status: UnitStatus, reservationId: string | null, lotId = 'lot-1'): ReservationUnit => ({
    serialNumber,
    productId: 'p',
    lotId,
    status,
    reservationId,
  });

  it('counts a line as its held units Reserved, allocated and unshipped Sold, shipped Delivered', () => {
    expect(unitCountsOfLine(line('r', 'l', { quantity: 6, allocatedQuantity: 3, shippedQuantity: 1, releasedQuantity: 1, movedQuantity: 1 }))).toEqual({
      RESERVED: 1,
      SOLD: 2,
      DELIVERED: 1,
    });
  });

  it('finds a live line whose units are not Reserved, and units Reserved or Sold of no reservation', () => {
    const lines = [line('r-1', 'lot-1', { quantity: 2 })];
    expect(unitDisagreements(lines, [unit('A', 'RESERVED', 'r-1'), unit('B', 'RESERVED', 'r-1')])).toEqual([]);
    expect(unitDisagreements(lines, [unit('A', 'RESERVED', 'r-1'), unit('B', 'RESERVED', null), unit('C', 'SOLD', null)])).toEqual([
      { reservationId: 'r-1', productId: 'p', lotId: 'lot-1', status: 'RESERVED', expected: 2, actual: 1, serialNumbers: ['A'] },
      { reservationId: null, productId: 'p', lotId: 'lot-1', status: 'RESERVED', expected: 0, actual: 1, serialNumbers: ['B'] },
      { reservationId: null, productId: 'p', lotId: 'lot-1', status: 'SOLD', expected: 0, actual: 1, serialNumbers: ['C'] },
    ]);
  });

  it('finds units Reserved by a released reservation, and Sold ones of a line that allocated nothing', () => {
    const released = [line('r-1', 'lot-1', { quantity: 1, releasedQuantity: 1 })];
    expect(unitDisagreements(released, [unit('A', 'RESERVED', 'r-1'), unit('B', 'SOLD', 'r-1')])).toEqual([
      expect.objectContaining({ status: 'RESERVED', expected: 0, actual: 1, serialNumbers: ['A'] }),
      expect.objectContaining({ status: 'SOLD', expected: 0, actual: 1, serialNumbers: ['B'] }),
    ]);
  });

  it('property: the units a set of lines stands for agree with them, and taking one unit off its reservation is found on both sides', () => {
    const lineParts = fc.record({
      held: fc.nat(3),
      sold: fc.nat(3),
      delivered: fc.nat(3),
      released: fc.nat(2),
      moved: fc.nat(2),
      lot: fc.constantFrom('lot-1', 'lot-2'),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('r-1', 'r-2', 'r-3'), lineParts), { maxLength: 6 }), fc.nat(), (specs, pick) => {
        const lines = specs.map(([reservationId, parts]) =>
          line(reservationId, parts.lot, {
            quantity: parts.held + parts.sold + parts.delivered + parts.released + parts.moved,
            allocatedQuantity: parts.sold + parts.delivered,
            shippedQuantity: parts.delivered,
            releasedQuantity: parts.released,
            movedQuantity: parts.moved,
          }),
        );
        let serial = 0;
        const units = lines.flatMap((each) =>
          Object.entries(unitCountsOfLine(each)).flatMap(([status, count]) =>
            Array.from({ length: count }, () => unit(`U-${String(serial++).padStart(3, '0')}`, status as UnitStatus, each.reservationId, each.lotId)),
          ),
        );
        expect(unitDisagreements(lines, units)).toEqual([]);
        if (units.length === 0) return;
        const orphan = units[pick % units.length]!;
        const found = unitDisagreements(
          lines,
          units.map((each) => (each === orphan ? { ...each, reservationId: null } : each)),
        );
        expect(found).toEqual([
          expect.objectContaining({ reservationId: orphan.reservationId, lotId: orphan.lotId, status: orphan.status, actual: expect.any(Number) }),
          { reservationId: null, productId: 'p', lotId: orphan.lotId, status: orphan.status, expected: 0, actual: 1, serialNumbers: [orphan.serialNumber] },
        ]);
        expect(found[0]!.expected - found[0]!.actual).toBe(1);
      }),
    );
  });
});

describe('rederiveUnits', () => {
  const lot = 'lot-1';
  const lineOf = (reservationId: string, held: number, sold: number): UnitLine => ({
    reservationId,
    lotId: lot,
    productId: 'p',
    quantity: held + sold,
    allocatedQuantity: sold,
    shippedQuantity: 0,
    releasedQuantity: 0,
    movedQuantity: 0,
  });
  const step = { reason: 'consistency fix', actor: 'ops' };
  const apply = (units: readonly StockUnit[], changes: readonly { id: string; status: UnitStatus; reservationId: string | null }[]) =>
    units.map((unit) => ({ ...unit, ...changes.find((change) => change.id === unit.id), productId: 'p' }));

  it('property: units whose status counts fit the lot only change hands, each with a step, and then agree with the lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 1, maxLength: 4 }),
        fc.nat(3),
        fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
        (needs, spare, shuffle) => {
          const lines = needs.map(([held, sold], index) => lineOf(`r-${index}`, held, sold));
          const statuses: UnitStatus[] = [
            ...needs.flatMap(([held]) => Array<UnitStatus>(held).fill('RESERVED')),
            ...needs.flatMap(([, sold]) => Array<UnitStatus>(sold).fill('SOLD')),
            ...Array<UnitStatus>(spare).fill('AVAILABLE'),
          ];
          // right statuses, reservations dealt at random (or none)
          const owners = [null, ...lines.map((line) => line.reservationId)];
          const units: StockUnit[] = statuses.map((status, index) => ({
            id: `u-${index}`,
            serialNumber: `S-${String(index).padStart(2, '0')}`,
            lotId: lot,
            status,
            reservationId: status === 'AVAILABLE' ? null : owners[(shuffle[index] ?? 0) % owners.length]!,
          }));
          const counts = lotCountsOf(statuses);
          const result = rederiveUnits(
            lines,
            units,
            [],
            { id: lot, reservedQuantity: counts.reservedQuantity, allocatedQuantity: counts.allocatedQuantity },
            step,
          );
          if (!result.ok) throw new Error(result.why);
          // one step per unit handed over, its status kept
          expect(result.steps.map((step) => [step.unitId, step.fromStatus, step.reservationId])).toEqual(
            result.changes.map((change) => [change.id, units.find((unit) => unit.id === change.id)!.status, change.reservationId]),
          );
          expect(result.steps.every((step) => step.fromStatus === step.toStatus)).toBe(true);
          expect(unitDisagreements(lines, apply(units, result.changes))).toEqual([]);
        },
      ),
    );
  });

  it('gives a short line a stray unit of no reservation first, then Available ones by serial number, with a step for each change of status', () => {
    const units: StockUnit[] = [
      { id: 'a', serialNumber: 'A', lotId: lot, status: 'AVAILABLE', reservationId: null },
      { id: 'b', serialNumber: 'B', lotId: lot, status: 'AVAILABLE', reservationId: null },
      { id: 'c', serialNumber: 'C', lotId: lot, status: 'SOLD', reservationId: null },
    ];
    const result = rederiveUnits([lineOf('r-1', 2, 0)], units, [], { id: lot, reservedQuantity: 2, allocatedQuantity: 0 }, step);
    expect(result).toEqual({
      ok: true,
      changes: [
        { id: 'a', status: 'RESERVED', reservationId: 'r-1' },
        { id: 'c', status: 'RESERVED', reservationId: 'r-1' },
      ],
      steps: [
        { unitId: 'a', fromStatus: 'AVAILABLE', toStatus: 'RESERVED', reservationId: 'r-1', reference: 'r-1', ...step },
        { unitId: 'c', fromStatus: 'SOLD', toStatus: 'RESERVED', reservationId: 'r-1', reference: 'r-1', ...step },
      ],
    });
    // nothing wanted: a stray unit becomes Available, referencing the lot
    const none = rederiveUnits([], units, [], { id: lot, reservedQuantity: 0, allocatedQuantity: 0 }, step);
    expect(none).toEqual({
      ok: true,
      changes: [{ id: 'c', status: 'AVAILABLE', reservationId: null }],
      steps: [{ unitId: 'c', fromStatus: 'SOLD', toStatus: 'AVAILABLE', reservationId: null, reference: lot, ...step }],
    });
  });

  it('leaves to a person a lot whose lines disagree with its quantities or hold more than it has, and Delivered units off their lines', () => {
    const one: StockUnit[] = [{ id: 'a', serialNumber: 'A', lotId: lot, status: 'RESERVED', reservationId: 'r-1' }];
    expect(rederiveUnits([lineOf('r-1', 1, 0)], one, [], { id: lot, reservedQuantity: 2, allocatedQuantity: 0 }, step)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/compare it with its ledger/),
    });
    expect(rederiveUnits([lineOf('r-1', 2, 0)], one, [], { id: lot, reservedQuantity: 2, allocatedQuantity: 0 }, step)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/1 units in stock but its reservation lines hold 2/),
    });
    const delivered = [{ serialNumber: 'D', productId: 'p', lotId: lot, status: 'DELIVERED' as const, reservationId: null }];
    expect(rederiveUnits([lineOf('r-1', 1, 0)], one, delivered, { id: lot, reservedQuantity: 1, allocatedQuantity: 0 }, step)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/Delivered unit is not moved back/),
    });
  });
});

describe('comingIn', () => {
  const unitIn = (status: UnitStatus) => ({ id: 'old', life: 2, status });

  it('takes a serial number never seen as its first life, by receipt or return', () => {
    expect(comingIn('RECEIPT', undefined)).toEqual({ ok: true, life: 1, previousUnitId: null });
    expect(comingIn('RETURN', undefined)).toEqual({ ok: true, life: 1, previousUnitId: null });
  });

  it.each(unitStatuses)('refuses a receipt of a serial number whose unit is %s', (status) => {
    expect(comingIn('RECEIPT', unitIn(status))).toEqual({ ok: false, status });
  });

  it.each(['DELIVERED', 'WRITTEN_OFF'] as const)('brings a %s unit back by a return as the next life, linked to it', (status) => {
    expect(comingIn('RETURN', unitIn(status))).toEqual({ ok: true, life: 3, previousUnitId: 'old' });
  });

  it.each(['AVAILABLE', 'RESERVED', 'SOLD'] as const)('refuses a return of a unit still in stock (%s)', (status) => {
    expect(comingIn('RETURN', unitIn(status))).toEqual({ ok: false, status });
  });

  it('lets a serial number into stock only when no unit of it is in stock', () => {
    fc.assert(
      fc.property(fc.constantFrom('RECEIPT' as const, 'RETURN' as const), fc.option(fc.constantFrom(...unitStatuses), { nil: undefined }), (type, status) => {
        const outcome = comingIn(type, status === undefined ? undefined : unitIn(status));
        if (outcome.ok) expect(status === undefined || !['AVAILABLE', 'RESERVED', 'SOLD'].includes(status)).toBe(true);
      }),
    );
  });
});

describe('currentLives', () => {
  it('keeps the latest life of each serial number of each product, in order', () => {
    const lives = [
      { productId: 'p', serialNumber: 'A', life: 1 },
      { productId: 'p', serialNumber: 'A', life: 2 },
      { productId: 'q', serialNumber: 'A', life: 1 },
      { productId: 'p', serialNumber: 'B', life: 3 },
      { productId: 'p', serialNumber: 'B', life: 1 },
    ];
    expect(currentLives(lives)).toEqual([lives[1], lives[2], lives[3]]);
  });
});

describe('unitsHandedOver', () => {
  const held = (id: string, serialNumber: string, lotId: string, reservationId: string | null, status: UnitStatus = 'RESERVED'): StockUnit => ({
    id,
    serialNumber,
    lotId,
    status,
    reservationId,
  });

  it("hands over as many of the source's Reserved units per lot as the move takes, by serial number, each with a step naming the target", () => {
    const units = [
      held('u3', 'C', 'lot-1', 'src'),
      held('u1', 'A', 'lot-1', 'src'),
      held('u2', 'B', 'lot-1', 'other'),
      held('u4', 'D', 'lot-2', 'src'),
      held('u5', 'E', 'lot-2', null, 'AVAILABLE'),
    ];
    const handed = unitsHandedOver(
      units,
      [
        { lotId: 'lot-1', quantity: 1 },
        { lotId: 'lot-2', quantity: 1 },
      ],
      'src',
      'dst',
      'ops-1',
    );
    expect(handed.changes).toEqual([
      { id: 'u1', status: 'RESERVED', reservationId: 'dst' },
      { id: 'u4', status: 'RESERVED', reservationId: 'dst' },
    ]);
    expect(handed.steps).toEqual(
      ['u1', 'u4'].map((unitId) => ({
        unitId,
        fromStatus: 'RESERVED',
        toStatus: 'RESERVED',
        reservationId: 'dst',
        reason: 'reservation moved',
        reference: 'dst',
        actor: 'ops-1',
      })),
    );
  });

  it('throws when a lot holds fewer units of the source than the move takes', () => {
    expect(() => unitsHandedOver([held('u1', 'A', 'lot-1', 'src')], [{ lotId: 'lot-1', quantity: 2 }], 'src', 'dst', 'ops-1')).toThrow(
      'lot lot-1 holds 1 units of reservation src for a move of 2',
    );
  });
});
