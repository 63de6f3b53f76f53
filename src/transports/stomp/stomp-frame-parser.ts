import { CLIENT_COMMANDS, MAX_COMMAND_LINE, negotiateVersion, StompProtocolError, type StompFrame, type StompVersion } from './stomp-frame.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const MAX_HEADERS = 64;

/** What one chunk of input produced: whole frames, and whether heart-beat EOLs were seen. */
export interface ParseOutput {
  readonly frames: StompFrame[];
  readonly heartbeats: number;
}

/**
 * Incremental STOMP frame decoder. Input may arrive in any chunking (a frame split across
 * WebSocket messages, several frames in one); EOLs between frames are heart-beats. Header
 * values are unescaped per the negotiated version (never in CONNECT/STOMP). Anything malformed
 * throws a `StompProtocolError`; the connection answers ERROR and closes, so the parser need
 * not recover.
 */
export class StompFrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  /** Escaping follows the version negotiated at CONNECT; null until then. */
  version: StompVersion | null = null;

  constructor(private readonly maxFrameBytes: number) {}

  /** True while a frame has started but is not complete yet. */
  get pending(): boolean {
    return this.buffer.length > 0;
  }

  push(chunk: Buffer | string): ParseOutput {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.buffer = this.buffer.length === 0 ? bytes : Buffer.concat([this.buffer, bytes]);
    const frames: StompFrame[] = [];
    let heartbeats = 0;
    for (;;) {
      // EOLs before a frame are heart-beats.
      let start = 0;
      while (start < this.buffer.length) {
        const b = this.buffer[start];
        if (b === LF) {
          heartbeats++;
          start++;
        } else if (b === CR && this.buffer[start + 1] === LF) {
          heartbeats++;
          start += 2;
        } else if (b === CR && start + 1 === this.buffer.length) {
          break; // a CR whose LF has not arrived yet
        } else {
          break;
        }
      }
      if (start > 0) this.buffer = this.buffer.subarray(start);
      if (this.buffer.length === 0 || (this.buffer.length === 1 && this.buffer[0] === CR)) break;
      const result = this.parseOne();
      if (!result) break;
      frames.push(result.frame);
      this.buffer = this.buffer.subarray(result.consumed);
    }
    if (this.buffer.length > this.maxFrameBytes) throw new StompProtocolError('Frame too large', `Frames are limited to ${this.maxFrameBytes} bytes`);
    if (this.buffer.length === 0) this.buffer = Buffer.alloc(0);
    return { frames, heartbeats };
  }

  private parseOne(): { frame: StompFrame; consumed: number } | null {
    const buf = this.buffer;
    const firstEol = buf.indexOf(LF);
    const commandEnd = firstEol < 0 ? buf.length : firstEol;
    // Check the command as soon as possible so that garbage is refused without buffering.
    const commandBytes = buf.subarray(0, commandEnd);
    const command = stripCr(commandBytes.toString('latin1'));
    if (firstEol < 0) {
      if (buf.length > MAX_COMMAND_LINE || ![...CLIENT_COMMANDS].some((c) => c.startsWith(command))) throw unknownCommand(command);
      return null;
    }
    if (!CLIENT_COMMANDS.has(command)) throw unknownCommand(command);

    const headers = new Map<string, string>();
    let pos = firstEol + 1;
    let count = 0;
    for (;;) {
      const eol = buf.indexOf(LF, pos);
      if (eol < 0) return null; // header block not complete yet
      const line = stripCr(buf.subarray(pos, eol).toString('utf8'));
      pos = eol + 1;
      if (line === '') break;
      if (++count > MAX_HEADERS) throw new StompProtocolError('Too many headers', `At most ${MAX_HEADERS} headers are accepted`);
      const colon = line.indexOf(':');
      if (colon <= 0) throw new StompProtocolError('Malformed header', `Header line without a name and a colon: ${JSON.stringify(line.slice(0, 80))}`);
      const escaped = command !== 'CONNECT' && command !== 'STOMP' && this.version !== null && this.version !== '1.0';
      const name = escaped ? unescapeHeader(line.slice(0, colon), this.version) : line.slice(0, colon);
      const value = escaped ? unescapeHeader(line.slice(colon + 1), this.version) : line.slice(colon + 1);
      if (!headers.has(name)) headers.set(name, value);
    }

    // The version decides how later frames unescape headers, so it is fixed as CONNECT is read.
    if ((command === 'CONNECT' || command === 'STOMP') && this.version === null) this.version = negotiateVersion(headers.get('accept-version'));

    const lengthHeader = headers.get('content-length');
    if (lengthHeader !== undefined) {
      if (!/^\d{1,10}$/.test(lengthHeader)) throw new StompProtocolError('Invalid content-length header', `content-length must be a non-negative integer, got ${JSON.stringify(lengthHeader.slice(0, 20))}`);
      const length = Number(lengthHeader);
      if (pos + length > this.maxFrameBytes) throw new StompProtocolError('Frame too large', `Frames are limited to ${this.maxFrameBytes} bytes`);
      if (buf.length < pos + length + 1) return null;
      if (buf[pos + length] !== NUL) throw new StompProtocolError('Frame not terminated by NUL', 'The byte after content-length bytes of body must be NUL');
      return { frame: { command, headers, body: Buffer.from(buf.subarray(pos, pos + length)) }, consumed: pos + length + 1 };
    }
    const nul = buf.indexOf(NUL, pos);
    if (nul < 0) return null;
    return { frame: { command, headers, body: Buffer.from(buf.subarray(pos, nul)) }, consumed: nul + 1 };
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function unknownCommand(command: string): StompProtocolError {
  const shown = JSON.stringify(command.slice(0, 40));
  return new StompProtocolError('Unknown command', `Unknown or malformed STOMP command ${shown}`);
}

/** STOMP 1.1/1.2 header unescaping: \n \c \\ (and \r in 1.2); any other escape is an error. */
export function unescapeHeader(raw: string, version: StompVersion | null): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = raw[++i];
    if (next === 'n') out += '\n';
    else if (next === 'c') out += ':';
    else if (next === '\\') out += '\\';
    else if (next === 'r' && version === '1.2') out += '\r';
    else throw new StompProtocolError('Invalid header escape sequence', `Undefined escape \\${next ?? ''} in a header`);
  }
  return out;
}
