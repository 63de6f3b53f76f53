import type { LoadFigures, ScenarioResult } from './scenarios.js';

export interface Goal {
  readonly text: string;
  readonly pass: boolean | null;
}

export interface Reported extends ScenarioResult {
  reference?: { p99Ms?: number; serverCpuUsPerMsg?: number; maxRateHeld?: number | null; kbPerConnection?: number };
  ratio?: { p99?: number; cpu?: number; maxRate?: number; memory?: number };
  goal?: Goal;
}

const ratio = (a: number | undefined | null, b: number | undefined | null): number | undefined =>
  a === undefined || a === null || b === undefined || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? undefined : Number((a / b).toFixed(2));

/** Attaches the reference figures, the ratios to them and the goal verdict of SPEC issue 9. */
export function compare(result: ScenarioResult, reference: ScenarioResult | undefined, standard: boolean): Reported {
  const out: Reported = { ...result };
  if (reference?.ok && result.target !== 'reference') {
    if (result.kind === 'idle') {
      out.reference = { kbPerConnection: reference.idle?.kbPerConnection };
      out.ratio = { memory: ratio(result.idle?.kbPerConnection, reference.idle?.kbPerConnection) };
    } else if (result.kind === 'find-max') {
      out.reference = { maxRateHeld: reference.maxRateHeld };
      out.ratio = { maxRate: ratio(result.maxRateHeld, reference.maxRateHeld) };
    } else {
      out.reference = { p99Ms: reference.load?.p99Ms, serverCpuUsPerMsg: reference.load?.serverCpuUsPerMsg };
      out.ratio = { p99: ratio(result.load?.p99Ms, reference.load?.p99Ms), cpu: ratio(result.load?.serverCpuUsPerMsg, reference.load?.serverCpuUsPerMsg) };
    }
  }
  out.goal = goal(out);
  // The goals are stated for the standard workload (1000 users, 2000 msg/s, 10 000 idle sockets).
  if (out.goal && !standard && out.ok) out.goal = { text: `${out.goal.text}; not the standard workload`, pass: null };
  return out;
}

function clean(load: LoadFigures | undefined, r: Reported): boolean {
  return !!load && load.lost === 0 && load.duplicates === 0 && load.misrouted === 0 && (r.seqViolations ?? 0) === 0;
}

function goal(r: Reported): Goal | undefined {
  if (r.target === 'reference') return undefined;
  if (!r.ok) return { text: 'scenario failed', pass: false };
  if (r.kind === 'idle') {
    const limit = r.target === 'socketio' ? 20 : 12;
    return { text: `idle ≤ ${limit} KB/conn`, pass: (r.idle?.kbPerConnection ?? Infinity) <= limit };
  }
  if (r.kind === 'find-max') {
    if (r.ratio?.maxRate === undefined) return { text: '≥ 90 % of reference rate', pass: null };
    return { text: '≥ 90 % of reference rate', pass: r.ratio.maxRate >= 0.9 };
  }
  const load = r.load;
  if (r.target === 'hub') {
    const cpuOk = r.ratio?.cpu === undefined ? null : r.ratio.cpu <= 1.5;
    const pass = clean(load, r) && (load?.p99Ms ?? Infinity) <= 25 && cpuOk !== false;
    return { text: 'no loss, p99 ≤ 25 ms, CPU ≤ 1.5× ref', pass: cpuOk === null && pass ? null : pass };
  }
  return { text: 'no loss, p99 ≤ 50 ms', pass: clean(load, r) && (load?.p99Ms ?? Infinity) <= 50 };
}

function cell(v: unknown): string {
  return v === undefined || v === null ? '—' : String(v);
}

const withRatio = (v: number | undefined, r: number | undefined): string => (v === undefined ? '—' : r === undefined ? String(v) : `${v} (${r}×)`);

function render(head: string[], rows: string[][]): string {
  const widths = head.map((_, c) => Math.max(head[c]!.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]): string => `| ${head.map((_, c) => (row[c] ?? '').padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The load table: a row per load / find-max scenario, figures with their ratio to the reference. */
export function loadTable(results: readonly Reported[]): string {
  const head = ['scenario', 'target', 'storage', 'rate/s', 'sent', 'expected', 'received', 'lost', 'dup', 'p50 ms', 'p95 ms', 'p99 ms (×ref)', 'max ms', 'server µs/msg (×ref)', 'db µs/msg', 'gen µs/msg', 'RSS MB', 'seq viol.', 'others (cores)', 'goal'];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.kind === 'idle') continue;
    const l = r.load;
    const base = [r.scenario, r.target, r.storage];
    if (!l) {
      rows.push([...base, 'FAILED', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', verdict(r)]);
      continue;
    }
    const rate = r.kind === 'find-max' ? `max ${withRatio(r.maxRateHeld ?? undefined, r.ratio?.maxRate)}` : cell(l.rate);
    rows.push([
      ...base,
      rate,
      cell(l.sent),
      cell(l.expected),
      cell(l.received),
      cell(l.lost),
      cell(l.duplicates),
      cell(l.p50Ms),
      cell(l.p95Ms),
      withRatio(l.p99Ms, r.ratio?.p99),
      cell(l.maxMs),
      withRatio(l.serverCpuUsPerMsg, r.ratio?.cpu),
      cell(l.databaseCpuUsPerMsg),
      cell(l.generatorCpuUsPerMsg),
      cell(l.serverRssMb),
      r.seqCheck === 'unavailable' ? 'n/a' : cell(r.seqViolations),
      cell(l.otherCores),
      verdict(r),
    ]);
  }
  return rows.length ? render(head, rows) : '';
}

/** The idle table: server RSS per idle authenticated connection. */
export function idleTable(results: readonly Reported[]): string {
  const head = ['scenario', 'target', 'storage', 'connections', 'open', 'RSS before MB', 'RSS after MB', 'KB/conn (×ref)', 'goal'];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.kind !== 'idle') continue;
    const i = r.idle;
    rows.push([r.scenario, r.target, r.storage, cell(i?.connections), cell(i?.open), cell(i?.rssBeforeMb), cell(i?.rssAfterMb), withRatio(i?.kbPerConnection, r.ratio?.memory), verdict(r)]);
  }
  return rows.length ? render(head, rows) : '';
}

function verdict(r: Reported): string {
  if (!r.goal) return '';
  const mark = r.goal.pass === null ? 'n/a' : r.goal.pass ? 'PASS' : 'FAIL';
  return `${mark} (${r.goal.text})`;
}

/** Details the table has no room for: find-max steps, errors, strays. */
export function notes(results: readonly Reported[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const tag = `${r.scenario}/${r.target}`;
    if (r.steps) lines.push(`${tag} steps: ${r.steps.map((s) => `${s.rate}/s p99 ${s.p99Ms} ms lost ${s.lost}${s.duplicates ? ` dup ${s.duplicates}` : ''}`).join('; ')}`);
    if (r.errors) lines.push(`${tag}: ${r.errors} error frames/acks, e.g. ${(r.errorSamples ?? []).join(' | ')}`);
    if (r.seqUnverified) lines.push(`${tag}: ${r.seqUnverified} received ids were not in the REST history read after the run (not checked for seq)`);
    if (r.stray) lines.push(`${tag}: ${r.stray} deliveries outside the measured batch (late or foreign)`);
    if (r.load?.lateAfterDrain) lines.push(`${tag}: ${r.load.lateAfterDrain} of the lost deliveries arrived after the drain gave up (late, not dropped)`);
    if (r.load && r.load.framesPerMessage > 15) lines.push(`${tag}: clients received ${r.load.framesPerMessage} frames per message sent (10 are the message itself)`);
    if (r.attempts && r.attempts > 1) lines.push(`${tag}: measured ${r.attempts} times (other processes disturbed the batch); the least disturbed is shown`);
    if (r.load && r.load.otherCores > 0.3) lines.push(`${tag}: other processes used ${r.load.otherCores} cores during the batch (shared machine): figures disturbed`);
    if (r.load && r.load.sendLagP99Ms > 5) lines.push(`${tag}: generator send lag p99 ${r.load.sendLagP99Ms} ms (the generator was busy; latency includes it)`);
    if (!r.ok && r.error) lines.push(`${tag}: ${r.error}`);
    if (r.idle) lines.push(`${tag}: ${r.idle.note}`);
  }
  return lines;
}
