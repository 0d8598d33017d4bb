import type { XDeath } from 'amqplib';
import { ATTEMPTS_HEADER, allocationTopology, attemptsOf, brokerPriority, MAX_PRIORITY, retryQueueFor } from '../../src/amqp/topology';

const delays = [1000, 5000, 25000];
const topology = allocationTopology('jobs', delays);

describe('allocation topology', () => {
  it('names one retry queue per delay and a dead-letter queue', () => {
    expect(topology).toEqual({
      work: 'jobs',
      retries: [
        { queue: 'jobs.retry.1000ms', delayMs: 1000 },
        { queue: 'jobs.retry.5000ms', delayMs: 5000 },
        { queue: 'jobs.retry.25000ms', delayMs: 25000 },
      ],
      dead: 'jobs.dead',
    });
  });

  it('waits longer after each failure, and as long as the last delay beyond the list', () => {
    expect([1, 2, 3, 4].map((failures) => retryQueueFor(topology, delays, failures).queue)).toEqual([
      'jobs.retry.1000ms',
      'jobs.retry.5000ms',
      'jobs.retry.25000ms',
      'jobs.retry.25000ms',
    ]);
  });

  it('maps the four priorities onto broker levels 1..MAX_PRIORITY, critical highest', () => {
    expect([brokerPriority('low'), brokerPriority('medium'), brokerPriority('high'), brokerPriority('critical')]).toEqual([1, 2, 3, MAX_PRIORITY]);
  });

  it('counts failed attempts from its own header, or from retry-queue expiries in x-death', () => {
    expect(attemptsOf(undefined, topology)).toBe(0);
    expect(attemptsOf({ [ATTEMPTS_HEADER]: 2 }, topology)).toBe(2);
    const entry = (queue: string, reason: XDeath['reason'], count: number): XDeath => ({
      queue,
      reason,
      count,
      time: { '!': 'timestamp', value: 0 },
      exchange: '',
      'routing-keys': [queue],
    });
    const death = [entry('jobs.retry.1000ms', 'expired', 1), entry('jobs.retry.5000ms', 'expired', 1), entry('jobs', 'rejected', 4)];
    expect(attemptsOf({ 'x-death': death }, topology)).toBe(2);
    expect(attemptsOf({ 'x-death': death, [ATTEMPTS_HEADER]: 1 }, topology)).toBe(2);
    expect(attemptsOf({ [ATTEMPTS_HEADER]: 'nonsense' }, topology)).toBe(0);
  });
});
