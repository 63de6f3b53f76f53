/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile /tmp/dir`): top functions by
 * self time, and self time by package / source folder.
 *
 *   npx tsx bench/profile-summary.ts /tmp/dir/CPU.….cpuprofile [--from µs --to µs] [--top N]
 *
 * `--from/--to` cut the profile to the measured phase: pass the `windowUs` the bench prints in
 * its JSON line (both are CLOCK_MONOTONIC microseconds on Linux, the clock V8 stamps samples with).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  functions: { name: string; where: string; selfMs: number; pct: number }[];
  areas: { area: string; selfMs: number; pct: number }[];
  /** For the top functions outside our code: the nearest `src/` caller, by self time. */
  callers: { name: string; from: { caller: string; selfMs: number }[] }[];
}

/** Our code: `src/` through tsx, or its build in `dist/` (shown as `src/…`, .js lines). */
const OURS = /^file:\/\/(?!.*node_modules).*\/(src|dist)\//;
const OURS_PREFIX = /^file:\/\/(?!.*node_modules).*?\/(src|dist)\//;

function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = /\/(src|dist|bench)\/(.+)$/.exec(url);
  if (src) return `src/${src[2]!.split('/').slice(0, -1).join('/') || '.'}`;
  return url;
}

export function summarise(profile: CpuProfile, from = -Infinity, to = Infinity, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) continue;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + delta);
    total += delta;
  }
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const srcCaller = (id: number): string => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = byId.get(p)?.callFrame;
      if (f && OURS.test(f.url)) return `${f.functionName || '(anonymous)'} (${f.url.replace(OURS_PREFIX, 'src/')}:${f.lineNumber + 1})`;
    }
    return '(no src/ caller)';
  };
  const callersOf = new Map<string, Map<string, number>>();
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const where = url ? `${url.replace(/^file:\/\/.*?\/node_modules\//, 'node_modules/').replace(OURS_PREFIX, 'src/')}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = fn.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    fn.set(key, entry);
    if (!OURS.test(url)) {
      const callers = callersOf.get(key) ?? new Map<string, number>();
      const c = srcCaller(id);
      callers.set(c, (callers.get(c) ?? 0) + us);
      callersOf.set(key, callers);
    }
    const a = area(url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number): number => Number(((100 * us) / Math.max(1, busy)).toFixed(1));
  const topKeys = [...fn.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, 8).map(([k]) => k);
  return {
    callers: topKeys
      .filter((k) => callersOf.has(k))
      .map((k) => ({
        name: k,
        from: [...callersOf.get(k)!.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([caller, us]) => ({ caller, selfMs: Math.round(us / 1000) })),
      })),
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: Math.round(f.us / 1000), pct: pct(f.us) })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([a, us]) => ({ area: a, selfMs: Math.round(us / 1000), pct: pct(us) })),
  };
}

function main(argv: string[]): void {
  const file = argv.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--from µs --to µs] [--top N]\n');
    process.exit(2);
  }
  const opt = (name: string): number | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const s = summarise(profile, opt('--from'), opt('--to'), opt('--top') ?? 25);
  process.stdout.write(`profile ${file}: ${s.totalMs} ms sampled, ${s.busyMs} ms busy (not idle)\n\n`);
  process.stdout.write('| self ms | % busy | function | where |\n|---:|---:|---|---|\n');
  for (const f of s.functions) process.stdout.write(`| ${f.selfMs} | ${f.pct} | \`${f.name}\` | ${f.where} |\n`);
  process.stdout.write('\n| self ms | % busy | area |\n|---:|---:|---|\n');
  for (const a of s.areas) process.stdout.write(`| ${a.selfMs} | ${a.pct} | ${a.area} |\n`);
  process.stdout.write('\nNearest src/ caller of the top functions outside src/:\n');
  for (const c of s.callers) process.stdout.write(`- ${c.name}: ${c.from.map((f) => `${f.caller} ${f.selfMs} ms`).join('; ')}\n`);
}

if (process.argv[1]?.endsWith('profile-summary.ts')) main(process.argv.slice(2));
