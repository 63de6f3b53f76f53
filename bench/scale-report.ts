import type { BigGroupResult } from './big-group-scenario.js';
import type { InstancesResult } from './instances-scenario.js';
import type { ScenarioResult } from './scenarios.js';
import type { StormResult } from './storm-scenario.js';

const cell = (n: number | null | undefined, unit = ''): string => (n === null || n === undefined || Number.isNaN(n) ? '–' : `${n}${unit}`);
const failed = (r: { ok: boolean; error?: string }): string => (r.ok ? '' : `\n\nFAILED: ${r.error ?? 'unknown'}`);

/** big-group beside the standard workload: per delivery is what compares (10 vs 200 recipients a message). */
export function bigGroupTable(r: BigGroupResult, standard: ScenarioResult, groupSize: number): string {
  const s = standard.load;
  const perDelivery = s ? Number((s.serverCpuUsPerMsg / groupSize).toFixed(2)) : null;
  return [
    `big-group (${r.storage}): one group of ${r.members} members, ${r.online} connected (hub), ${r.rate} msg/s × ${r.durationS} s; provisioned in ${r.provisionMs} ms; server CPU per connection (handshake, auth, presence settled and announced): ${cell(r.serverCpuUsPerConnection)} µs; connections closed by the server: ${r.closedByServer}`,
    '',
    '| run | msgs | deliveries expected | lost | dup | p50 ms | p99 ms | max ms | server CPU µs/msg | server CPU µs/delivery |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| big-group | ${r.sent} | ${r.expected} | ${r.lost} | ${r.duplicates} | ${cell(r.p50Ms)} | ${cell(r.p99Ms)} | ${cell(r.maxMs)} | ${cell(r.serverCpuUsPerMsg)} | ${cell(r.serverCpuUsPerDelivery)} |`,
    s
      ? `| standard (hub, groups of ${groupSize}, ${s.rate} msg/s) | ${s.sent} | ${s.expected} | ${s.lost} | ${s.duplicates} | ${s.p50Ms} | ${s.p99Ms} | ${s.maxMs} | ${s.serverCpuUsPerMsg} | ${cell(perDelivery)} |`
      : `| standard | FAILED: ${standard.error ?? '?'} | | | | | | | | |`,
  ].join('\n') + failed(r);
}

export function stormTable(r: StormResult): string {
  return [
    `storm (${r.storage}): ${r.clients} hub clients in ${r.groups} groups dropped at once, back within ${r.reconnectWindowS} s (jitter), catching up by seq; ${r.sendRate} msg/s all along`,
    '',
    '| messages missed | expected (reconnected clients) | not back after 60 s | reconnect retries | catch-up p50 ms | catch-up p99 ms | catch-up max ms | pages read | time to settle ms | presence wrong / checked | server up | server CPU ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    `| ${r.messagesMissed} | ${r.messagesExpected} | ${r.notReconnected} | ${r.reconnectFailures} | ${cell(r.catchUpP50Ms)} | ${cell(r.catchUpP99Ms)} | ${cell(r.catchUpMaxMs)} | ${r.catchUpPages} | ${cell(r.settleMs)} | ${r.presenceWrong} / ${r.presenceChecked} | ${r.serverAlive ? 'yes' : 'NO'} | ${r.serverCpuMs} |`,
    ...(r.reconnectFailures > 0 ? ['', `retries by cause: ${JSON.stringify(r.failureKinds)}`] : []),
  ].join('\n') + failed(r);
}

export function instancesTable(r: InstancesResult): string {
  return [
    `instances: the standard workload over ${r.instances} server processes (${r.storage} + ${r.bus}), ${r.rate} msg/s × ${r.durationS} s, load avg ${r.loadAvg1m}`,
    '',
    '| msgs | deliveries | lost | dup | seq violations | p50 ms | p99 ms | max ms | servers CPU µs/msg | PostgreSQL CPU µs/msg | bus CPU µs/msg |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${r.sent} | ${r.expected} | ${r.lost} | ${r.duplicates} | ${r.seqViolations} | ${cell(r.p50Ms)} | ${cell(r.p99Ms)} | ${cell(r.maxMs)} | ${cell(r.serverCpuUsPerMsg)} | ${cell(r.databaseCpuUsPerMsg)} | ${cell(r.busCpuUsPerMsg)} |`,
  ].join('\n') + failed(r);
}
