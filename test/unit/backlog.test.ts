import { backlogFull, retryWaitMs } from '../../src/domain/backlog';

describe('backlogFull', () => {
  it('is full from the bound on', () => {
    expect(backlogFull(1999, 2000)).toBe(false);
    expect(backlogFull(2000, 2000)).toBe(true);
    expect(backlogFull(9000, 2000)).toBe(true);
  });

  it('is never full without a bound (0)', () => {
    expect(backlogFull(1_000_000, 0)).toBe(false);
  });
});

describe('backlogFull for a batch', () => {
  it('refuses a batch whole when its jobs would take the backlog past the bound', () => {
    expect(backlogFull(1900, 2000, 100)).toBe(false);
    expect(backlogFull(1901, 2000, 100)).toBe(true);
    expect(backlogFull(0, 2000, 1000)).toBe(false);
  });

  it('takes a batch larger than the whole bound only into an empty backlog', () => {
    expect(backlogFull(0, 3, 10)).toBe(false);
    expect(backlogFull(1, 3, 10)).toBe(true);
  });

  it('holds a single job to the same rule as before: refused from the bound on', () => {
    expect(backlogFull(1999, 2000, 1)).toBe(backlogFull(1999, 2000));
    expect(backlogFull(2000, 2000, 1)).toBe(true);
  });
});

describe('retryWaitMs', () => {
  it('asks for the time the workers take, at their recent rate, to make room for the call', () => {
    // 100 jobs over the bound at 1,000 jobs/s: 100 ms; 500 over: 500 ms
    expect(retryWaitMs(2000, 2000, 100, 1000, 50, 1000)).toBe(100);
    expect(retryWaitMs(2400, 2000, 100, 1000, 50, 1000)).toBe(500);
  });

  it('never asks for less than the least nor more than the most', () => {
    expect(retryWaitMs(2000, 2000, 1, 4000, 250, 1000)).toBe(250);
    expect(retryWaitMs(9000, 2000, 1, 1000, 250, 1000)).toBe(1000);
  });

  it('asks for the most when nothing was served lately', () => {
    expect(retryWaitMs(2000, 2000, 1, 0, 250, 1000)).toBe(1000);
  });

  it('counts a batch larger than the bound as the bound', () => {
    expect(retryWaitMs(10, 3, 50, 100, 10, 1000)).toBe(100);
  });
});
