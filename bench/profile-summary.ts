/**
 * Summarizes a V8 CPU profile (written by `npm run bench -- --cpu-prof`): self time by function and
 * by package or source folder, to see where a process spends its CPU.
 * Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */
import fs from 'node:fs';

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number };
type Profile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] };

/** Where a script lives: a package, node's internals, or a folder of this repository. */
function origin(url: string): string {
  if (url === '') return '(native or idle)';
  if (url.startsWith('node:')) return url.split('/')[0]!.replace(/:.*$/, ':internal');
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  const own = url.match(/\/(src|workers|bench)\/(.*)$/);
  return own ? `${own[1]}/${own[2]!.split('/')[0]}` : url;
}

/** Self time by function and by origin, largest first, in ms. */
export function summarizeProfile(profile: Profile): { totalMs: number; functions: [string, number][]; origins: [string, number][] } {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const samples = profile.samples.length || 1;
  const perSample = totalMs / samples;
  const functions = new Map<string, number>();
  const origins = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * perSample;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${origin(url)}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    origins.set(origin(url), (origins.get(origin(url)) ?? 0) + ms);
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { totalMs, functions: sorted(functions), origins: sorted(origins) };
}

if (require.main === module) {
  const [file, topText] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(topText ?? 25);
  const summary = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile);
  const line = ([name, ms]: [string, number]) => `${ms.toFixed(0).padStart(8)} ms ${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%  ${name}\n`;
  process.stdout.write(`profile of ${(summary.totalMs / 1000).toFixed(1)} s\n\nby origin:\n`);
  for (const entry of summary.origins.slice(0, top)) process.stdout.write(line(entry));
  process.stdout.write('\nby function (self time):\n');
  for (const entry of summary.functions.slice(0, top)) process.stdout.write(line(entry));
}
