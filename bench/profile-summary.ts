/**
 * Summarizes a V8 CPU profile (written by `npm run bench -- --cpu-prof`): self time by function and
 * by package or source folder, and the total time of each function with what it called, to see
 * where a process spends its CPU.
 * Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top] [--last <seconds>]
 * A process's profile covers its whole life; `--last` counts only its last seconds (the scenario,
 * not the seeding before it). Shares are of the time the process was busy (idle left out).
 */
import fs from 'node:fs';

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas?: number[] };

/** Where a script lives: a package, node's internals, or a folder of this repository. */
function origin(url: string): string {
  if (url === '') return '(native or idle)';
  if (url.startsWith('node:')) return url.split('/')[0]!.replace(/:.*$/, ':internal');
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  const own = url.match(/\/(src|workers|bench)\/(.*)$/);
  return own ? `${own[1]}/${own[2]!.split('/')[0]}` : url;
}

/**
 * A function's name and where it lives: its file in this repository and its column (tsx runs each
 * file as one line, so the column tells a file's anonymous functions apart), else its origin and line.
 */
function frameName({ functionName, url, lineNumber, columnNumber }: ProfileNode['callFrame']): string {
  const own = url.includes('node_modules/') ? null : url.match(/\/((?:src|workers|bench)\/.*)$/);
  const where = own ? `${own[1]!}:${lineNumber + 1}:${columnNumber + 1}` : url ? `${origin(url)}:${lineNumber + 1}` : origin(url);
  return `${functionName || '(anonymous)'} ${where}`;
}

/** How many samples fell on each node in the profile's last `lastMs` (all of them when null). */
function hitsOf(profile: Profile, lastMs: number | null): Map<number, number> {
  const hits = new Map<number, number>();
  const from = lastMs === null || profile.timeDeltas === undefined ? -Infinity : profile.endTime - lastMs * 1000;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas?.[index] ?? 0;
    if (at >= from) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  return hits;
}

export type ProfileSummary = {
  totalMs: number;
  /** the time not idle */
  busyMs: number;
  /** self time by function, largest first */
  functions: [string, number][];
  /** self time by package or folder, largest first, idle left out */
  origins: [string, number][];
  /** time by function with everything it called, each sample counted once per function on its stack */
  inclusive: [string, number][];
};

/** Self and total time by function, and self time by origin, in ms, over the profile's last `lastMs` (all of it when null). */
export function summarizeProfile(profile: Profile, lastMs: number | null = null): ProfileSummary {
  const perSample = (profile.endTime - profile.startTime) / 1000 / (profile.samples.length || 1);
  const hits = hitsOf(profile, lastMs);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const functions = new Map<string, number>();
  const origins = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, name: string, ms: number) => map.set(name, (map.get(name) ?? 0) + ms);
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, count] of hits) {
    const node = byId.get(id)!;
    const ms = count * perSample;
    totalMs += ms;
    add(functions, frameName(node.callFrame), ms);
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    add(origins, origin(node.callFrame.url), ms);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) onStack.add(frameName(byId.get(at)!.callFrame));
    for (const name of onStack) add(inclusive, name, ms);
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { totalMs, busyMs: totalMs - idleMs, functions: sorted(functions), origins: sorted(origins), inclusive: sorted(inclusive) };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const lastAt = args.indexOf('--last');
  const lastSeconds = lastAt === -1 ? null : Number(args.splice(lastAt, 2)[1]);
  const [file, topText] = args;
  if (!file || (lastSeconds !== null && !(lastSeconds > 0))) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top] [--last <seconds>]\n');
    process.exit(2);
  }
  const top = Number(topText ?? 25);
  const summary = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile, lastSeconds === null ? null : lastSeconds * 1000);
  const line = ([name, ms]: [string, number]) => `${ms.toFixed(0).padStart(8)} ms ${((ms / summary.busyMs) * 100).toFixed(1).padStart(5)}%  ${name}\n`;
  const print = (title: string, entries: [string, number][]) => {
    process.stdout.write(`\n${title}:\n`);
    for (const entry of entries.slice(0, top)) process.stdout.write(line(entry));
  };
  process.stdout.write(`profile of ${(summary.totalMs / 1000).toFixed(1)} s, ${(summary.busyMs / 1000).toFixed(1)} s busy (shares are of the busy time)\n`);
  print('by origin', summary.origins);
  print(
    'by function (self time)',
    summary.functions.filter(([name]) => !name.startsWith('(idle) ')),
  );
  print('by function with what it called (total time)', summary.inclusive);
}
