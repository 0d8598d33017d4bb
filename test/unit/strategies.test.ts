import {
  chooseTakes,
  distanceKm,
  orderLots,
  strategies,
  type CandidateLot,
  type GeoPoint,
  type Strategy,
  strategyChoice,
  type StrategyChoice,
  type StrategyContext,
} from '../../src/domain/strategies';
import type { Priority } from '../../src/domain/priority';
import { berlin, lot, lotId, madrid, now, paris, unmapped } from './lot-fixtures';

const atParis: GeoPoint = { latitude: paris.latitude!, longitude: paris.longitude! };

const context = (strategy: Strategy, priority: Priority = 'medium', destination?: GeoPoint): StrategyContext => {
  const choice = strategyChoice(strategy, destination);
  if (choice === null) throw new Error(`${strategy} needs a destination in this test`);
  return { ...choice, priority, now };
};

/** Lot numbers in the order given, for readable expectations. */
const numbers = (lots: readonly { id: string }[] | readonly { lotId: string }[]): number[] =>
  lots.map((entry) => Number(('id' in entry ? entry.id : entry.lotId).slice(-12)));

describe('strategyChoice', () => {
  it('refuses nearest_location without a destination', () => {
    expect(strategyChoice('nearest_location', undefined)).toBeNull();
  });

  it('takes nearest_location with its destination', () => {
    expect(strategyChoice('nearest_location', atParis)).toEqual({ strategy: 'nearest_location', destination: atParis });
  });

  it.each(strategies.filter((strategy) => strategy !== 'nearest_location').map((strategy) => [strategy]))(
    'takes %s with or without a destination',
    (strategy) => {
      expect(strategyChoice(strategy, undefined)).toEqual({ strategy });
      expect(strategyChoice(strategy, atParis)).toEqual({ strategy, destination: atParis });
    },
  );

  it('is the only way the type lets nearest_location be chosen without a destination', () => {
    // @ts-expect-error nearest_location without a destination is not a StrategyChoice
    const refused: StrategyChoice = { strategy: 'nearest_location' };
    expect(strategyChoice(refused.strategy, refused.destination)).toBeNull();
  });
});

describe('distanceKm', () => {
  it('is zero from a point to itself', () => {
    expect(distanceKm(atParis, atParis)).toBe(0);
  });

  it('measures Paris to Berlin as about 878 km either way', () => {
    const toBerlin = { latitude: berlin.latitude!, longitude: berlin.longitude! };
    expect(distanceKm(atParis, toBerlin)).toBeCloseTo(877.5, 0);
    expect(distanceKm(toBerlin, atParis)).toBeCloseTo(distanceKm(atParis, toBerlin), 9);
  });

  it('gives half the circumference between antipodes', () => {
    expect(distanceKm({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 })).toBeCloseTo(20015.1, 0);
  });
});

describe('orderLots', () => {
  type Case = [name: string, ctx: StrategyContext, lots: CandidateLot[], expected: number[]];

  const cases: Case[] = [
    ['fifo takes the oldest receipt first', context('fifo'), [lot({ n: 1, received: 3 }), lot({ n: 2, received: 1 }), lot({ n: 3, received: 2 })], [2, 3, 1]],
    [
      'fifo orders lots of several warehouses by receipt alone',
      context('fifo'),
      [lot({ n: 1, warehouse: berlin, received: 5 }), lot({ n: 2, warehouse: paris, received: 2 }), lot({ n: 3, warehouse: madrid, received: 4 })],
      [2, 3, 1],
    ],
    ['fifo breaks equal receipts by lot id', context('fifo'), [lot({ n: 7, received: 1 }), lot({ n: 3, received: 1 }), lot({ n: 5, received: 1 })], [3, 5, 7]],
    ['lifo takes the newest receipt first', context('lifo'), [lot({ n: 1, received: 3 }), lot({ n: 2, received: 1 }), lot({ n: 3, received: 2 })], [1, 3, 2]],
    [
      'lifo still breaks equal receipts by ascending lot id',
      context('lifo'),
      [lot({ n: 9, received: 4 }), lot({ n: 4, received: 4 }), lot({ n: 1, received: 1 })],
      [4, 9, 1],
    ],
    [
      'nearest_expiry takes the soonest expiry first and undated lots after all dated ones',
      context('nearest_expiry'),
      [lot({ n: 1, expires: 150 }), lot({ n: 2, expires: null, received: 0 }), lot({ n: 3, expires: 120, received: 9 })],
      [3, 1, 2],
    ],
    [
      'nearest_expiry orders equal expiries and undated lots by receipt',
      context('nearest_expiry'),
      [lot({ n: 1, expires: 130, received: 5 }), lot({ n: 2, expires: 130, received: 2 }), lot({ n: 3, received: 8 }), lot({ n: 4, received: 3 })],
      [2, 1, 4, 3],
    ],
    [
      'lowest_cost takes the cheapest first, unknown costs last, equal costs by receipt',
      context('lowest_cost'),
      [
        lot({ n: 1, unitCost: 5 }),
        lot({ n: 2, unitCost: null, received: 0 }),
        lot({ n: 3, unitCost: 2.5, received: 7 }),
        lot({ n: 4, unitCost: 2.5, received: 3 }),
      ],
      [4, 3, 1, 2],
    ],
    [
      'nearest_location takes the nearest warehouse first, FIFO within one, unmapped warehouses last',
      context('nearest_location', 'medium', atParis),
      [
        lot({ n: 1, warehouse: unmapped, received: 0 }),
        lot({ n: 2, warehouse: madrid, received: 1 }),
        lot({ n: 3, warehouse: berlin, received: 1 }),
        lot({ n: 4, warehouse: paris, received: 6 }),
        lot({ n: 5, warehouse: paris, received: 2 }),
      ],
      [5, 4, 3, 2, 1],
    ],
    [
      'load_balancing lists warehouses by available stock, FIFO within each',
      context('load_balancing'),
      [
        lot({ n: 1, warehouse: paris, available: 100, received: 1 }),
        lot({ n: 2, warehouse: berlin, available: 200, received: 4 }),
        lot({ n: 3, warehouse: berlin, available: 100, received: 2 }),
      ],
      [3, 2, 1],
    ],
    [
      'load_balancing lists equally stocked warehouses by warehouse id',
      context('load_balancing'),
      [lot({ n: 1, warehouse: paris, received: 1 }), lot({ n: 2, warehouse: madrid, received: 2 }), lot({ n: 3, warehouse: berlin, received: 3 })],
      [3, 2, 1],
    ],
    ...(['high', 'critical'] as const).map((priority): Case => [
      `priority_zone at ${priority} priority takes premium warehouses first, by warehouse priority then FIFO`,
      context('priority_zone', priority),
      [
        lot({ n: 1, warehouse: berlin, received: 0 }),
        lot({ n: 2, warehouse: madrid, received: 1 }),
        lot({ n: 3, warehouse: paris, received: 3 }),
        lot({ n: 4, warehouse: paris, received: 2 }),
        lot({ n: 5, warehouse: unmapped, received: 9 }),
      ],
      [5, 4, 3, 2, 1],
    ]),
    ...(['low', 'medium'] as const).map((priority): Case => [
      `priority_zone at ${priority} priority takes non-premium warehouses first and premium ones only after them`,
      context('priority_zone', priority),
      [
        lot({ n: 1, warehouse: paris, received: 0 }),
        lot({ n: 2, warehouse: unmapped, received: 0 }),
        lot({ n: 3, warehouse: berlin, received: 2 }),
        lot({ n: 4, warehouse: madrid, received: 3 }),
        lot({ n: 5, warehouse: berlin, received: 1 }),
      ],
      [4, 5, 3, 2, 1],
    ]),
  ];

  it.each(cases)('%s', (_name, ctx, lots, expected) => {
    expect(numbers(orderLots(lots, ctx))).toEqual(expected);
  });

  it.each(strategies.map((strategy) => [strategy]))('%s never serves expired lots, even those expiring exactly now', (strategy) => {
    const lots = [
      lot({ n: 1, warehouse: paris, received: 0, expires: 99, unitCost: 0.01, available: 500 }),
      lot({ n: 2, warehouse: paris, received: 50, expires: 100, unitCost: 0.01, available: 500 }),
      lot({ n: 3, warehouse: madrid, received: 20, expires: 101, unitCost: 9 }),
      lot({ n: 4, warehouse: berlin, received: 30, unitCost: 8 }),
    ];
    const ctx = context(strategy, 'critical', atParis);
    expect(numbers(orderLots(lots, ctx)).sort()).toEqual([3, 4]);
    expect(numbers(chooseTakes(lots, 1000, ctx)).sort()).toEqual([3, 4]);
  });

  it.each(strategies.map((strategy) => [strategy]))('%s skips lots with nothing available', (strategy) => {
    const lots = [lot({ n: 1, available: 0 }), lot({ n: 2, available: 4 })];
    expect(numbers(orderLots(lots, context(strategy, 'low', atParis)))).toEqual([2]);
  });

  it('leaves the input array in its order', () => {
    const lots = [lot({ n: 2, received: 2 }), lot({ n: 1, received: 1 })];
    orderLots(lots, context('fifo'));
    expect(numbers(lots)).toEqual([2, 1]);
  });
});

describe('chooseTakes', () => {
  type Case = [name: string, ctx: StrategyContext, lots: CandidateLot[], quantity: number, expected: [lot: number, quantity: number][]];

  const berlin300Paris100 = [
    lot({ n: 1, warehouse: berlin, available: 200, received: 1 }),
    lot({ n: 2, warehouse: berlin, available: 100, received: 2 }),
    lot({ n: 3, warehouse: paris, available: 100, received: 0 }),
  ];

  const cases: Case[] = [
    [
      'fifo drains the oldest lot before touching the next',
      context('fifo'),
      [lot({ n: 1, received: 1 }), lot({ n: 2, received: 2 })],
      15,
      [
        [1, 10],
        [2, 5],
      ],
    ],
    [
      'lifo drains the newest lot first',
      context('lifo'),
      [lot({ n: 1, received: 1 }), lot({ n: 2, received: 2 })],
      15,
      [
        [2, 10],
        [1, 5],
      ],
    ],
    [
      'takes everything there is when asked for more',
      context('fifo'),
      [lot({ n: 1, received: 1 }), lot({ n: 2, received: 2 })],
      50,
      [
        [1, 10],
        [2, 10],
      ],
    ],
    ['takes nothing for a quantity of zero', context('fifo'), [lot({ n: 1 })], 0, []],
    ['takes nothing when there are no lots', context('lowest_cost'), [], 5, []],
    [
      'nearest_expiry takes the soonest expiring lot first',
      context('nearest_expiry'),
      [lot({ n: 1, expires: 200, received: 0 }), lot({ n: 2, expires: 110, received: 5 })],
      12,
      [
        [2, 10],
        [1, 2],
      ],
    ],
    [
      'nearest_location fills from the nearest warehouse before a farther one',
      context('nearest_location', 'low', atParis),
      [lot({ n: 1, warehouse: berlin, received: 0 }), lot({ n: 2, warehouse: paris, available: 4, received: 9 })],
      6,
      [
        [2, 4],
        [1, 2],
      ],
    ],
    [
      'priority_zone at critical priority fills from premium stock first',
      context('priority_zone', 'critical'),
      [lot({ n: 1, warehouse: berlin, received: 0 }), lot({ n: 2, warehouse: paris, available: 4, received: 9 })],
      6,
      [
        [2, 4],
        [1, 2],
      ],
    ],
    [
      'priority_zone at low priority reaches premium stock only after the rest is gone',
      context('priority_zone', 'low'),
      [lot({ n: 1, warehouse: paris, received: 0 }), lot({ n: 2, warehouse: berlin, available: 4, received: 9 })],
      6,
      [
        [2, 4],
        [1, 2],
      ],
    ],
    [
      'load_balancing splits 40 across 300 and 100 available as 30 and 10, FIFO within a warehouse',
      context('load_balancing'),
      berlin300Paris100,
      40,
      [
        [1, 30],
        [3, 10],
      ],
    ],
    [
      "load_balancing moves on to a warehouse's next lot when its oldest cannot cover the share",
      context('load_balancing'),
      [
        lot({ n: 1, warehouse: berlin, available: 5, received: 1 }),
        lot({ n: 2, warehouse: berlin, available: 295, received: 2 }),
        lot({ n: 3, warehouse: paris, available: 100, received: 0 }),
      ],
      40,
      [
        [1, 5],
        [2, 25],
        [3, 10],
      ],
    ],
    [
      'load_balancing rounds 3.75 and 1.25 to 4 and 1 by largest remainder',
      context('load_balancing'),
      berlin300Paris100,
      5,
      [
        [1, 4],
        [3, 1],
      ],
    ],
    [
      'load_balancing gives a unit left by rounding to the lower warehouse id when remainders tie',
      context('load_balancing'),
      [lot({ n: 1, warehouse: paris, available: 100 }), lot({ n: 2, warehouse: berlin, available: 100 })],
      3,
      [
        [2, 2],
        [1, 1],
      ],
    ],
    [
      'load_balancing hands the units left by rounding down to the largest remainders',
      context('load_balancing'),
      [
        lot({ n: 1, warehouse: madrid, available: 1 }),
        lot({ n: 2, warehouse: paris, available: 1 }),
        lot({ n: 3, warehouse: berlin, available: 8 }),
        lot({ n: 4, warehouse: unmapped, available: 2 }),
      ],
      6,
      // exact shares 0.5, 0.5, 4, 1: the one unit left goes to madrid, the lower id of the two halves
      [
        [3, 4],
        [4, 1],
        [1, 1],
      ],
    ],
    [
      'load_balancing never takes more than a warehouse has when asked for more than exists',
      context('load_balancing'),
      berlin300Paris100,
      1000,
      [
        [1, 200],
        [2, 100],
        [3, 100],
      ],
    ],
    [
      'load_balancing counts only unexpired stock towards a warehouse share',
      context('load_balancing'),
      [
        lot({ n: 1, warehouse: berlin, available: 200, expires: 50 }),
        lot({ n: 2, warehouse: berlin, available: 100, received: 2 }),
        lot({ n: 3, warehouse: paris, available: 100, received: 0 }),
      ],
      40,
      [
        [2, 20],
        [3, 20],
      ],
    ],
  ];

  it.each(cases)('%s', (_name, ctx, lots, quantity, expected) => {
    expect(chooseTakes(lots, quantity, ctx)).toEqual(expected.map(([n, taken]) => ({ lotId: lotId(n), quantity: taken })));
  });

  it.each([[-1], [1.5], [Number.NaN]])('throws for a quantity of %p, which is not a whole number of units', (quantity) => {
    expect(() => chooseTakes([lot({ n: 1 })], quantity, context('fifo'))).toThrow('whole number');
  });
});
