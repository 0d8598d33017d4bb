import { backlogFull } from '../../src/domain/backlog';

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
