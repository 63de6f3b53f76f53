/** A STOMP frame as read from or written to the wire. Headers keep the first value of a repeat. */
export interface StompFrame {
  readonly command: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export type StompVersion = '1.0' | '1.1' | '1.2';

/** Commands a client may send (STOMP 1.2 §"Client Frames"). */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set([
  'CONNECT',
  'STOMP',
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'BEGIN',
  'COMMIT',
  'ABORT',
  'ACK',
  'NACK',
  'DISCONNECT',
]);

/** The longest client command plus a CR: past this many bytes without an EOL, it is garbage. */
export const MAX_COMMAND_LINE = 'UNSUBSCRIBE'.length + 1;

/** A violation of the protocol: answered with an ERROR frame carrying `message`, then closed. */
export class StompProtocolError extends Error {
  constructor(message: string, readonly details = '') {
    super(message);
    this.name = 'StompProtocolError';
  }
}

/** The highest version both sides speak; a CONNECT without accept-version is 1.0. */
export function negotiateVersion(acceptVersion: string | undefined): StompVersion | null {
  if (acceptVersion === undefined) return '1.0';
  const offered = new Set(acceptVersion.split(',').map((v) => v.trim()));
  for (const v of ['1.2', '1.1', '1.0'] as const) if (offered.has(v)) return v;
  return null;
}
