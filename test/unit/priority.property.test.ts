import fc from 'fast-check';
import { byPriorityThenArrival, priorities, type Waiting } from '../../src/domain/priority';

const waiting = fc.record({
  priority: fc.constantFrom(...priorities),
  createdAt: fc.integer({ min: 0, max: 5 }).map((ms) => new Date(Date.UTC(2030, 0, 1) + ms)),
  id: fc.uuid(),
});

describe('byPriorityThenArrival', () => {
  it('sorts every higher priority before every lower one, and within one priority the earlier first', () => {
    fc.assert(
      fc.property(fc.array(waiting, { maxLength: 30 }), (rows: Waiting[]) => {
        const sorted = [...rows].sort(byPriorityThenArrival);
        for (let index = 1; index < sorted.length; index++) {
          const [before, after] = [sorted[index - 1]!, sorted[index]!];
          const rank = priorities.indexOf(before.priority) - priorities.indexOf(after.priority);
          expect(rank).toBeGreaterThanOrEqual(0);
          if (rank === 0) expect(before.createdAt.getTime()).toBeLessThanOrEqual(after.createdAt.getTime());
        }
      }),
    );
  });

  it('is a total order: the sort does not depend on the order it starts from', () => {
    fc.assert(
      fc.property(fc.uniqueArray(waiting, { selector: (row) => row.id, maxLength: 30 }), (rows: Waiting[]) => {
        expect([...rows].sort(byPriorityThenArrival)).toEqual([...rows].reverse().sort(byPriorityThenArrival));
      }),
    );
  });
});
