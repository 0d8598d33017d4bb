import { committedWithin } from '../../src/db/snapshots';

describe('committedWithin (pg_visible_in_snapshot for a committed transaction)', () => {
  it('sees a transaction that ended before the oldest one running', () => {
    expect(committedWithin('99', '100:105:100,102')).toBe(true);
  });

  it('does not see one running when the snapshot was taken', () => {
    expect(committedWithin('100', '100:105:100,102')).toBe(false);
    expect(committedWithin('102', '100:105:100,102')).toBe(false);
  });

  it('sees one between the bounds that had ended', () => {
    expect(committedWithin('101', '100:105:100,102')).toBe(true);
    expect(committedWithin('104', '100:105:100,102')).toBe(true);
  });

  it('does not see one that started after it', () => {
    expect(committedWithin('105', '100:105:100,102')).toBe(false);
    expect(committedWithin('7000000000', '100:105:')).toBe(false);
  });

  it('reads a snapshot with nothing running', () => {
    expect(committedWithin('104', '105:105:')).toBe(true);
    expect(committedWithin('105', '105:105:')).toBe(false);
  });
});
