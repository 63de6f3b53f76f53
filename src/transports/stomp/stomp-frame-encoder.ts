import type { StompVersion } from './stomp-frame.js';

/** Header escaping for frames other than CONNECT/CONNECTED, per the negotiated version. */
export function escapeHeader(value: string, version: StompVersion): string {
  if (version === '1.0') return value.replace(/[\r\n]/g, ' ');
  let out = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/:/g, '\\c');
  out = version === '1.2' ? out.replace(/\r/g, '\\r') : out.replace(/\r/g, '');
  return out;
}

/**
 * One frame as a string ready for a text WebSocket message or a SockJS write. `content-length`
 * is added whenever there is a body. Headers of CONNECTED are not escaped (STOMP 1.2).
 */
export function encodeFrame(command: string, headers: Readonly<Record<string, string>>, body = '', version: StompVersion = '1.2'): string {
  let out = `${command}\n`;
  const escape = command !== 'CONNECTED';
  for (const [name, value] of Object.entries(headers)) {
    out += escape ? `${escapeHeader(name, version)}:${escapeHeader(value, version)}\n` : `${name}:${value}\n`;
  }
  if (body !== '' && !('content-length' in headers)) out += `content-length:${Buffer.byteLength(body)}\n`;
  return `${out}\n${body}\u0000`;
}

/** The server heart-beat reply and the intervals both sides use (STOMP 1.2 "Heart-beating"). */
export function negotiateHeartbeat(clientHeader: string | undefined, serverMs: number): { header: string; sendEveryMs: number; expectEveryMs: number } {
  const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(clientHeader ?? '');
  const cx = match ? Number(match[1]) : 0; // client can send every cx ms
  const cy = match ? Number(match[2]) : 0; // client wants to receive every cy ms
  const sendEveryMs = cy === 0 || serverMs === 0 ? 0 : Math.max(serverMs, cy);
  const expectEveryMs = cx === 0 || serverMs === 0 ? 0 : Math.max(serverMs, cx);
  return { header: `${serverMs},${serverMs}`, sendEveryMs, expectEveryMs };
}
