import { checkTransition, effectiveStatus, isTerminal, reservationStatuses, type ReservationStatus } from '../../src/domain/reservation';

const allowed: ReadonlySet<string> = new Set(['RESERVED->ALLOCATED', 'RESERVED->RELEASED', 'RESERVED->EXPIRED', 'ALLOCATED->FULFILLED']);

const everyPair = reservationStatuses.flatMap((from) => reservationStatuses.map((to): [ReservationStatus, ReservationStatus] => [from, to]));

describe('checkTransition', () => {
  it('covers all 25 pairs of statuses', () => {
    expect(everyPair).toHaveLength(25);
  });

  it.each(everyPair.filter(([from, to]) => allowed.has(`${from}->${to}`)))('allows %s -> %s', (from, to) => {
    expect(checkTransition(from, to)).toBeNull();
  });

  it.each(everyPair.filter(([from, to]) => !allowed.has(`${from}->${to}`)))(
    'refuses %s -> %s with INVALID_TRANSITION naming the current status',
    (from, to) => {
      const refusal = checkTransition(from, to);
      expect(refusal).toEqual({ code: 'INVALID_TRANSITION', from, to, message: expect.stringContaining(`Reservation is ${from}`) });
      expect(refusal?.message).toContain(to);
    },
  );

  it('says which statuses an active reservation could move to instead', () => {
    expect(checkTransition('ALLOCATED', 'RELEASED')?.message).toBe('Reservation is ALLOCATED and cannot become RELEASED; it can only become FULFILLED');
  });

  it('says a terminal reservation cannot move at all', () => {
    expect(checkTransition('EXPIRED', 'RESERVED')?.message).toBe('Reservation is EXPIRED and cannot become RESERVED; it is final');
  });
});

describe('isTerminal', () => {
  it.each([
    ['RESERVED', false],
    ['ALLOCATED', false],
    ['FULFILLED', true],
    ['RELEASED', true],
    ['EXPIRED', true],
  ] as const)('%s is terminal: %s', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });
});

describe('effectiveStatus', () => {
  const now = new Date('2030-01-01T00:00:00.000Z');
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

  it('reads a RESERVED hold as EXPIRED from its expiresAt on, not a millisecond before', () => {
    expect(effectiveStatus({ status: 'RESERVED', expiresAt: at(1) }, now)).toBe('RESERVED');
    expect(effectiveStatus({ status: 'RESERVED', expiresAt: at(0) }, now)).toBe('EXPIRED');
    expect(effectiveStatus({ status: 'RESERVED', expiresAt: at(-1) }, now)).toBe('EXPIRED');
  });

  it.each(reservationStatuses.filter((status) => status !== 'RESERVED'))('leaves %s as stored, whatever its expiresAt', (status) => {
    expect(effectiveStatus({ status, expiresAt: at(-60_000) }, now)).toBe(status);
  });
});
