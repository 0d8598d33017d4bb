import type { Output } from '../../src/cli/output';
import { describeCount, formatDuration, startProgress } from '../../src/cli/progress';

/** An output that records what it writes, as a terminal or not. */
function recordingOutput(interactive: boolean, progressIntervalMs = 5000) {
  const lines: string[] = [];
  const drawn: string[] = [];
  const output: Output = {
    out: () => undefined,
    err: (text) => lines.push(text),
    draw: (text) => drawn.push(text),
    interactive,
    canAsk: false,
    ask: () => Promise.reject(new Error('nothing to ask on')),
    progressIntervalMs,
    json: false,
  };
  return { output, lines, drawn };
}

beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
afterEach(() => jest.useRealTimers());

describe('progress without a terminal', () => {
  it('writes one line per interval at most, however often the work advances', () => {
    const { output, lines } = recordingOutput(false, 5000);
    const progress = startProgress(output, { label: 'seeding lots', total: 1000, unit: 'lots' });
    // a step every 0.2 s for 12 s
    for (let step = 0; step < 60; step++) {
      progress.advance(10);
      jest.advanceTimersByTime(200);
    }
    progress.stop();
    jest.advanceTimersByTime(60_000);
    expect(lines).toEqual(['seeding lots: 250/1000 lots (25%), 50/s, ETA 15s', 'seeding lots: 500/1000 lots (50%), 50/s, ETA 10s']);
  });

  it('writes nothing for work shorter than the interval', () => {
    const { output, lines } = recordingOutput(false, 5000);
    const progress = startProgress(output, { label: 'seeding lots', total: 10 });
    jest.advanceTimersByTime(4900);
    progress.advance(10);
    progress.stop();
    jest.advanceTimersByTime(60_000);
    expect(lines).toEqual([]);
  });

  it('shows a status and the time elapsed when there is nothing to count', () => {
    const { output, lines } = recordingOutput(false, 2000);
    const progress = startProgress(output, { label: 'allocation a: queued' });
    jest.advanceTimersByTime(2000);
    progress.update({ label: 'allocation a: processing' });
    jest.advanceTimersByTime(2000);
    progress.stop();
    expect(lines).toEqual(['allocation a: queued (2s)', 'allocation a: processing (4s)']);
  });
});

describe('progress on a terminal', () => {
  it('redraws one line with a bar, the rate and an ETA, and clears it at the end', () => {
    const { output, lines, drawn } = recordingOutput(true);
    const progress = startProgress(output, { label: 'seeding', total: 200, unit: 'lots' });
    jest.advanceTimersByTime(1000);
    progress.advance(50);
    jest.advanceTimersByTime(1000);
    progress.stop();
    expect(lines).toEqual([]);
    expect(drawn.at(-2)).toBe(`\r\x1b[2Kseeding [${'█'.repeat(6)}${'░'.repeat(18)}] 50/200 lots (25%), 25/s, ETA 6s`);
    expect(drawn.at(-1)).toBe('\r\x1b[2K');
    // ten redraws a second at most
    expect(drawn.length).toBeLessThanOrEqual(21);
  });

  it('draws nothing for work that ends at once', () => {
    const { output, drawn } = recordingOutput(true);
    const progress = startProgress(output, { label: 'seeding', total: 2 });
    jest.advanceTimersByTime(200);
    progress.advance(2);
    progress.stop();
    expect(drawn).toEqual([]);
  });
});

describe('the words of progress', () => {
  it.each([
    [0, '0s'],
    [42.4, '42s'],
    [185, '3m05s'],
    [3720, '1h02m'],
  ])('formats %ss as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('leaves out the rate and ETA until something is done', () => {
    expect(describeCount(0, 10, 3, 'jobs')).toBe('0/10 jobs (0%)');
    expect(describeCount(3, 10, 2)).toBe('3/10 (30%), 1.5/s, ETA 5s');
  });
});
