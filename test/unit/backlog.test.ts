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
