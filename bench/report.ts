import type { LoadFigures, ScenarioResult } from './scenarios.js';
import { isReference, type ReferenceName } from './server-process.js';

/** How the references are named in `ratios`, in the tables and on `--references`. */
export const REFERENCE_LABELS: Readonly<Record<ReferenceName, string>> = { reference: 'raw', naive: 'naive', 'group-commit': 'group-commit' };
/** Column order of the ratio columns. */
const RATIO_COLUMNS: readonly ReferenceName[] = ['naive', 'group-commit', 'reference'];

export interface Goal {
  readonly text: string;
  readonly pass: boolean | null;
}

export interface ReferenceFigures {
  p99Ms?: number;
  serverCpuUsPerMsg?: number;
  databaseCpuUsPerMsg?: number | null;
  maxRateHeld?: number | null;
  kbPerConnection?: number;
}

export interface Ratios {
  p99?: number;
  /** Server CPU per message only. */
  cpu?: number;
  /** Server plus database backends' CPU per message (PostgreSQL's work runs there). */
  cpuWithDb?: number;
  maxRate?: number;
  memory?: number;
}

export interface Reported extends ScenarioResult {
  /** The raw `ws` reference's figures and the ratios to it (what the goals are stated against). */
  reference?: ReferenceFigures;
  ratio?: Ratios;
  /** Every reference measured in the run, by label (`raw`, `naive`, `group-commit`). */
  references?: Record<string, ReferenceFigures>;
  ratios?: Record<string, Ratios>;
  goal?: Goal;
}

export type ReferenceResults = Partial<Record<ReferenceName, ScenarioResult>>;

const ratio = (a: number | undefined | null, b: number | undefined | null): number | undefined =>
  a === undefined || a === null || b === undefined || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? undefined : Number((a / b).toFixed(2));

/** Server + database CPU per message; unknown when the run used PostgreSQL but its backends could not be read. */
function totalCpu(r: ScenarioResult): number | undefined {
  const l = r.load;
  if (!l) return undefined;
  if (l.databaseCpuUsPerMsg === null) return r.storage.startsWith('postgresql') ? undefined : l.serverCpuUsPerMsg;
  return Number((l.serverCpuUsPerMsg + l.databaseCpuUsPerMsg).toFixed(1));
}

function against(result: ScenarioResult, reference: ScenarioResult): { figures: ReferenceFigures; ratios: Ratios } {
  if (result.kind === 'idle') {
    return { figures: { kbPerConnection: reference.idle?.kbPerConnection }, ratios: { memory: ratio(result.idle?.kbPerConnection, reference.idle?.kbPerConnection) } };
  }
  if (result.kind === 'find-max') return { figures: { maxRateHeld: reference.maxRateHeld }, ratios: { maxRate: ratio(result.maxRateHeld, reference.maxRateHeld) } };
  const l = reference.load;
  return {
    figures: { p99Ms: l?.p99Ms, serverCpuUsPerMsg: l?.serverCpuUsPerMsg, databaseCpuUsPerMsg: l?.databaseCpuUsPerMsg ?? null },
    ratios: { p99: ratio(result.load?.p99Ms, l?.p99Ms), cpu: ratio(result.load?.serverCpuUsPerMsg, l?.serverCpuUsPerMsg), cpuWithDb: ratio(totalCpu(result), totalCpu(reference)) },
  };
}

/** Attaches the references' figures, the ratios to each and the goal verdict of SPEC issue 9. */
export function compare(result: ScenarioResult, references: ReferenceResults, standard: boolean): Reported {
  const out: Reported = { ...result };
  if (!isReference(result.target)) {
    for (const name of RATIO_COLUMNS) {
      const reference = references[name];
      if (!reference?.ok || reference.kind !== result.kind) continue;
      const { figures, ratios } = against(result, reference);
      (out.references ??= {})[REFERENCE_LABELS[name]] = figures;
      (out.ratios ??= {})[REFERENCE_LABELS[name]] = ratios;
      if (name === 'reference') {
        // As before the other references existed: `reference`/`ratio` are the raw one's.
        out.reference = figures;
        out.ratio = ratios;
      }
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
  if (isReference(r.target)) return undefined;
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

/** `cpu 1.2× · p99 3.4×` against one persisting reference: server + database CPU, and p99. */
function persistedRatios(r: Reported, name: ReferenceName): string {
  const x = r.ratios?.[REFERENCE_LABELS[name]];
  if (!x) return '—';
  return `cpu ${x.cpuWithDb === undefined ? '—' : `${x.cpuWithDb}×`} · p99 ${x.p99 === undefined ? '—' : `${x.p99}×`}`;
}

/**
 * The load table: a row per fixed-rate scenario (the references included), figures with their
 * ratio to the raw reference, and server + database CPU and p99 as ratios to the two
 * persisting references.
 */
export function loadTable(results: readonly Reported[]): string {
  const head = ['scenario', 'target', 'storage', 'rate/s', 'sent', 'expected', 'received', 'lost', 'dup', 'p50 ms', 'p95 ms', 'p99 ms (×ref)', 'max ms', 'server µs/msg (×ref)', 'db µs/msg', '× naive', '× group-commit', 'gen µs/msg', 'RSS MB', 'seq viol.', 'others (cores)', 'goal'];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.kind !== 'load') continue;
    const l = r.load;
    const base = [r.scenario, r.target, r.storage];
    if (!l) {
      rows.push([...base, 'FAILED', ...new Array<string>(head.length - 5).fill(''), verdict(r)]);
      continue;
    }
    const vs = (name: ReferenceName): string => (isReference(r.target) ? '' : persistedRatios(r, name));
    rows.push([
      ...base,
      cell(l.rate),
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
      vs('naive'),
      vs('group-commit'),
      cell(l.generatorCpuUsPerMsg),
      cell(l.serverRssMb),
      r.seqCheck === 'unavailable' ? 'n/a' : cell(r.seqViolations),
      cell(l.otherCores),
      verdict(r),
    ]);
  }
  return rows.length ? render(head, rows) : '';
}

/**
 * The find-max table: the highest rate each target held (p99 ≤ limit, no loss), as a ratio to
 * every reference of the run, with the figures of that last clean step.
 */
export function findMaxTable(results: readonly Reported[]): string {
  const head = ['scenario', 'target', 'storage', 'sustainable msg/s', ...RATIO_COLUMNS.map((n) => `× ${REFERENCE_LABELS[n]}`), 'p99 ms', 'server µs/msg', 'db µs/msg', 'seq viol.', 'others (cores)', 'goal'];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.kind !== 'find-max') continue;
    const base = [r.scenario, r.target, r.storage];
    if (!r.ok) {
      rows.push([...base, 'FAILED', ...new Array<string>(head.length - 5).fill(''), verdict(r)]);
      continue;
    }
    const l = r.load;
    const ratios = RATIO_COLUMNS.map((n) => (isReference(r.target) ? '' : cell(r.ratios?.[REFERENCE_LABELS[n]]?.maxRate)));
    rows.push([
      ...base,
      r.maxRateHeld === null || r.maxRateHeld === undefined ? `< ${r.steps?.[0]?.rate ?? '?'}` : String(r.maxRateHeld),
      ...ratios,
      cell(l?.p99Ms),
      cell(l?.serverCpuUsPerMsg),
      cell(l?.databaseCpuUsPerMsg),
      r.seqCheck === 'unavailable' ? 'n/a' : cell(r.seqViolations),
      cell(l?.otherCores),
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
