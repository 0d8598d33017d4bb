/** Terminal progress: a live bar on a terminal, a line every few seconds when the output is a file or CI log. */
import cliProgress from 'cli-progress';

export type Phase = { update(value: number, note?: string): void; stop(): void };

/** Prints a line of the run's story. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Starts showing the progress of one phase towards `total`. */
export function phase(label: string, total: number): Phase {
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `  ${label.padEnd(28)} [{bar}] {value}/{total} {note}`, barsize: 30, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { note: '' });
    return {
      update: (value, note = '') => bar.update(value, { note }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  let current = 0;
  let currentNote = '';
  return {
    update(value, note = '') {
      current = value;
      currentNote = note;
      if (Date.now() - last >= 2000) {
        last = Date.now();
        say(`  ${label}: ${value}/${total} ${note}`);
      }
    },
    stop: () => say(`  ${label}: ${current}/${total} ${currentNote} done`),
  };
}
