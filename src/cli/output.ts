/** Where command output goes; tests and the process entry pass their own streams. */
export type Output = {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Writes to stderr as is, without a newline: a progress line redrawn in place on a terminal. */
  draw: (text: string) => void;
  /** Whether stderr is a terminal: spinners and progress bars draw only there. */
  interactive: boolean;
  /** Whether there is a terminal to ask on (stdin and stderr): destructive commands ask there. */
  canAsk: boolean;
  /** Asks a question on the terminal and resolves to the answer typed. */
  ask: (question: string) => Promise<string>;
  /** Without a terminal, progress writes at most one line this often. */
  progressIntervalMs: number;
  json: boolean;
};

/** How a run's output behaves, from the global options. */
export type OutputSettings = { json: boolean; progressIntervalMs: number };

type Cell = string | number | boolean | null | undefined;

/** Renders rows as a plain-text table with a header and aligned columns. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n');
}
