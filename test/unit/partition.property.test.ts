import fc from 'fast-check';
import { allocationPartitions, workQueueFor, workQueues } from '../../src/amqp/topology';
import { partitionOf, partitionProduct, stableHash } from '../../src/domain/partition';

const productIds = fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 });

describe('partitions by product', () => {
  it('hashes with 32-bit FNV-1a over UTF-8, so every process and release agrees', () => {
    // reference values of FNV-1a 32
    expect(stableHash('')).toBe(0x811c9dc5);
    expect(stableHash('a')).toBe(0xe40c292c);
    expect(stableHash('foobar')).toBe(0xbf9cf968);
  });

  it('sends a job to a partition in range, the same one whatever the order of its products', () => {
    fc.assert(
      fc.property(productIds, fc.integer({ min: 1, max: 64 }), (ids, partitions) => {
        const partition = partitionOf(ids, partitions);
        expect(partition).toBeGreaterThanOrEqual(0);
        expect(partition).toBeLessThan(partitions);
        expect(partitionOf([...ids].reverse(), partitions)).toBe(partition);
      }),
    );
  });

  it('sends a job of several products where a job of its lowest product alone goes', () => {
    fc.assert(
      fc.property(productIds, fc.integer({ min: 1, max: 64 }), (ids, partitions) => {
        const lowest = partitionProduct(ids);
        expect(ids.every((id) => lowest <= id)).toBe(true);
        expect(partitionOf(ids, partitions)).toBe(partitionOf([lowest], partitions));
      }),
    );
  });

  it('puts every job in partition 0 when there is one partition', () => {
    fc.assert(fc.property(productIds, (ids) => expect(partitionOf(ids, 1)).toBe(0)));
  });

  it('spreads many products over every partition', () => {
    const counts = new Array<number>(8).fill(0);
    for (let index = 0; index < 800; index++) counts[partitionOf([`SKU-${index}`], 8)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
  });

  it('names the queues of each partition, sharing one dead-letter queue; one partition keeps the plain names', () => {
    expect(allocationPartitions('jobs', [1000], 1)).toEqual([{ work: 'jobs', retries: [{ queue: 'jobs.retry.1000ms', delayMs: 1000 }], dead: 'jobs.dead' }]);
    expect(allocationPartitions('jobs', [1000], 2)).toEqual([
      { work: 'jobs.p0', retries: [{ queue: 'jobs.p0.retry.1000ms', delayMs: 1000 }], dead: 'jobs.dead' },
      { work: 'jobs.p1', retries: [{ queue: 'jobs.p1.retry.1000ms', delayMs: 1000 }], dead: 'jobs.dead' },
    ]);
  });

  it('names quorum queues apart from the classic ones: a queue per priority level and partition, highest first, shared retry queues and dead-letter queue', () => {
    const quorum = { deliveryLimit: 10 };
    const retry = { queue: 'jobs.quorum.retry.1000ms', delayMs: 1000, exchange: 'jobs.quorum.retry.1000ms' };
    const levels = (partition: number) =>
      (['critical', 'high', 'medium', 'low'] as const).map((priority) => ({ priority, queue: `jobs.quorum.p${partition}.${priority}` }));
    expect(allocationPartitions('jobs', [1000, 1000], 1, quorum)).toEqual([
      { work: 'jobs.quorum.p0.critical', levels: levels(0), retries: [retry], dead: 'jobs.quorum.dead', quorum },
    ]);
    const two = allocationPartitions('jobs', [1000], 2, quorum);
    expect(two.map(workQueues)).toEqual([levels(0).map((level) => level.queue), levels(1).map((level) => level.queue)]);
    expect(two.map((topology) => [topology.dead, topology.retries])).toEqual([
      ['jobs.quorum.dead', [retry]],
      ['jobs.quorum.dead', [retry]],
    ]);
    expect(workQueueFor(two[1]!, 'medium')).toBe('jobs.quorum.p1.medium');
    expect(workQueueFor(allocationPartitions('jobs', [1000], 2)[1]!, 'medium')).toBe('jobs.p1');
  });
});
