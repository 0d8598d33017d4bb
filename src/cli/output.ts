/** Where command output goes; tests and the process entry pass their own streams. */
export type Output = {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal: spinners and progress bars draw only there. */
  interactive: boolean;
  json: boolean;
};

type Cell = string | number | boolean | null | undefined;

/** Renders rows as a plain-text table with a header and aligned columns. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n');
}

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A one-line spinner on stderr when it is a terminal; otherwise each new status is written once. */
export function spinner(output: Output, stderr: NodeJS.WriteStream = process.stderr): { update(text: string): void; stop(): void } {
  let text = '';
  let frame = 0;
  if (!output.interactive) {
    return {
      update(next) {
        if (next !== text) output.err(next);
        text = next;
      },
      stop() {},
    };
  }
  const timer = setInterval(() => {
    frame = (frame + 1) % frames.length;
    stderr.write(`\r\x1b[2K${frames[frame]} ${text}`);
  }, 100);
  return {
    update(next) {
      text = next;
    },
    stop() {
      clearInterval(timer);
      stderr.write('\r\x1b[2K');
    },
  };
}
