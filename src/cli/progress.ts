import type { Output } from './output';

/** What a long-running command reports: counted work (a total, a unit) or a status that changes. */
export type ProgressOptions = {
  /** What is going on, e.g. `seeding lots` or `allocation 0190…`. */
  label: string;
  /** How much work there is; without it the progress shows the status and the time elapsed. */
  total?: number;
  /** What is counted, e.g. `lots` or `jobs`. */
  unit?: string;
};

export type Progress = {
  /** Counts `done` more units of work finished. */
  advance(done?: number): void;
  /** Changes the label (the next step, a new status) or the total (more work found on the way). */
  update(change: { label?: string; total?: number }): void;
  /** Ends the progress: clears the line on a terminal; writes nothing more otherwise. */
  stop(): void;
};

/** How often a terminal line is redrawn, and how long work runs before it is drawn at all. */
const redrawMs = 100;
const terminalGraceMs = 300;
const barWidth = 24;
const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A duration for people: 42s, 3m05s, 1h02m. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  const pad = (value: number) => String(value).padStart(2, '0');
  if (whole < 3600) return `${Math.floor(whole / 60)}m${pad(whole % 60)}s`;
  return `${Math.floor(whole / 3600)}h${pad(Math.floor((whole % 3600) / 60))}m`;
}

/** A rate for people: 3.2/s below ten, whole numbers above. */
function formatRate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

/** The state of counted work as words: `1200/5000 lots (24%), 310/s, ETA 12s` (rate and ETA once measurable). */
export function describeCount(done: number, total: number, elapsedSeconds: number, unit = ''): string {
  const counted = `${done}/${total}${unit ? ` ${unit}` : ''}`;
  const percent = total > 0 ? Math.floor((100 * Math.min(done, total)) / total) : 100;
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const facts = [`${counted} (${percent}%)`];
  if (rate > 0) {
    facts.push(`${formatRate(rate)}/s`);
    facts.push(`ETA ${formatDuration(Math.max(0, total - done) / rate)}`);
  }
  return facts.join(', ');
}

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.round((barWidth * Math.min(done, total)) / total) : barWidth;
  return `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]`;
}

/**
 * Shows the progress of long work on stderr. On a terminal: one line redrawn in place, a bar with
 * the rate and an ETA for counted work, a spinner and the time elapsed otherwise; work that ends
 * within 0.3 s draws nothing. Without a terminal (a log, CI): one line every
 * `output.progressIntervalMs` and never more often, so a log stays readable and a long run still
 * shows it is alive; work shorter than that writes nothing.
 */
export function startProgress(output: Output, options: ProgressOptions): Progress {
  const started = Date.now();
  let { label, total } = options;
  let done = 0;
  let frame = 0;
  let drawn = false;

  const describe = () => {
    const seconds = (Date.now() - started) / 1000;
    if (total === undefined) return `${label} (${formatDuration(seconds)})`;
    return `${label}: ${describeCount(done, total, seconds, options.unit)}`;
  };

  const timer = output.interactive
    ? setInterval(() => {
        if (Date.now() - started < terminalGraceMs) return;
        frame = (frame + 1) % frames.length;
        const seconds = (Date.now() - started) / 1000;
        const line =
          total === undefined ? `${frames[frame]} ${describe()}` : `${label} ${bar(done, total)} ${describeCount(done, total, seconds, options.unit)}`;
        output.draw(`\r\x1b[2K${line}`);
        drawn = true;
      }, redrawMs)
    : setInterval(() => output.err(describe()), output.progressIntervalMs);
  // the work in progress keeps the process alive, not its progress
  timer.unref();

  return {
    advance(count = 1) {
      done += count;
    },
    update(change) {
      label = change.label ?? label;
      total = change.total ?? total;
    },
    stop() {
      clearInterval(timer);
      if (drawn) output.draw('\r\x1b[2K');
    },
  };
}
