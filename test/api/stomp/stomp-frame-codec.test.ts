import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StompProtocolError } from '../../../src/transports/stomp/stomp-frame.js';
import { encodeFrame, escapeHeader, negotiateHeartbeat } from '../../../src/transports/stomp/stomp-frame-encoder.js';
import { StompFrameParser, unescapeHeader } from '../../../src/transports/stomp/stomp-frame-parser.js';
import { negotiateVersion } from '../../../src/transports/stomp/stomp-frame.js';

const connected = (): StompFrameParser => {
  const p = new StompFrameParser(64 * 1024);
  p.push('CONNECT\naccept-version:1.2\nhost:x\n\n\u0000');
  return p;
};
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof StompProtocolError) return err.message;
    throw err;
  }
  throw new Error('no error');
};

describe('STOMP frame codec', () => {
  it('parses CONNECT without unescaping and negotiates the version', () => {
    const p = new StompFrameParser(1024);
    const { frames } = p.push('CONNECT\naccept-version:1.1,1.2\nlogin:a\\cb\n\n\u0000');
    expect(frames).toHaveLength(1);
    expect(frames[0]!.command).toBe('CONNECT');
    expect(frames[0]!.headers.get('login')).toBe('a\\cb');
    expect(p.version).toBe('1.2');
  });

  it('unescapes headers in 1.2 frames, keeps the first of repeated headers, reads NUL-terminated bodies', () => {
    const p = connected();
    const { frames } = p.push('SEND\ndestination:/a\\cb\\n\\r\\\\\nx:1\nx:2\n\nhello\u0000');
    expect(frames[0]!.headers.get('destination')).toBe('/a:b\n\r\\');
    expect(frames[0]!.headers.get('x')).toBe('1');
    expect(frames[0]!.body.toString()).toBe('hello');
  });

  it('honours content-length (a body may contain NUL), CRLF line ends, and counts heart-beat EOLs', () => {
    const p = connected();
    const out = p.push('\n\r\nSEND\r\ndestination:/d\r\ncontent-length:3\r\n\r\na\u0000b\u0000\n\n');
    expect(out.heartbeats).toBe(4);
    expect(out.frames[0]!.body).toEqual(Buffer.from('a\u0000b'));
    expect(p.pending).toBe(false);
  });

  it('reassembles frames split at every byte and splits several frames in one chunk', () => {
    const text = 'SUBSCRIBE\nid:1\ndestination:/topic/chat/1\n\n\u0000SEND\ndestination:/x\ncontent-length:2\n\n{}\u0000';
    const p = connected();
    const frames = [];
    for (const ch of Buffer.from(text)) frames.push(...p.push(Buffer.from([ch])).frames);
    expect(frames.map((f) => f.command)).toEqual(['SUBSCRIBE', 'SEND']);
    expect(connected().push(text).frames).toHaveLength(2);
  });

  it('refuses unknown commands, garbage, bad escapes, malformed headers, bad content-length and oversize frames', () => {
    expect(errorOf(() => connected().push('HELLO\n\n\u0000'))).toBe('Unknown command');
    expect(errorOf(() => connected().push(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02])))).toBe('Unknown command');
    expect(errorOf(() => connected().push('x'.repeat(40)))).toBe('Unknown command');
    expect(errorOf(() => connected().push('\rSEND\n\n\u0000'))).toBe('Unknown command');
    const cr = connected();
    expect(cr.push('\r').frames).toEqual([]);
    expect(cr.push('\n').heartbeats).toBe(1);
    expect(errorOf(() => connected().push('SEND\ndestination:/a\\t\n\n\u0000'))).toBe('Invalid header escape sequence');
    expect(errorOf(() => connected().push('SEND\nno colon here\n\n\u0000'))).toBe('Malformed header');
    expect(errorOf(() => connected().push('SEND\ncontent-length:abc\n\n\u0000'))).toBe('Invalid content-length header');
    expect(errorOf(() => connected().push('SEND\ncontent-length:1\n\nab\u0000'))).toBe('Frame not terminated by NUL');
    expect(errorOf(() => connected().push('SEND\ncontent-length:99999999\n\n'))).toBe('Frame too large');
    const small = new StompFrameParser(100);
    expect(errorOf(() => small.push(`SEND\n\n${'a'.repeat(200)}`))).toBe('Frame too large');
  });

  it('waits for the rest of an incomplete frame (no NUL yet)', () => {
    const p = connected();
    expect(p.push('SEND\ndestination:/x\n\n{"a":').frames).toEqual([]);
    expect(p.pending).toBe(true);
    expect(p.push('1}\u0000').frames[0]!.body.toString()).toBe('{"a":1}');
  });

  it('round-trips any headers and body through encodeFrame and the parser, in any chunking', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== 'content-length'), fc.string({ maxLength: 20 }), { maxKeys: 5 }),
        fc.string({ maxLength: 50 }),
        fc.integer({ min: 1, max: 7 }),
        (headers, body, step) => {
          const frame = encodeFrame('SEND', headers, body, '1.2');
          const p = connected();
          const bytes = Buffer.from(frame);
          const frames = [];
          for (let i = 0; i < bytes.length; i += step) frames.push(...p.push(bytes.subarray(i, i + step)).frames);
          expect(frames).toHaveLength(1);
          expect(frames[0]!.body.toString()).toBe(body);
          for (const [k, v] of Object.entries(headers)) expect(frames[0]!.headers.get(k)).toBe(v);
        },
      ),
    );
  });

  it('escapes per version and negotiates versions and heart-beats', () => {
    expect(escapeHeader('a:b\n\\\r', '1.2')).toBe('a\\cb\\n\\\\\\r');
    expect(unescapeHeader('a\\cb', '1.1')).toBe('a:b');
    expect(() => unescapeHeader('\\r', '1.1')).toThrow(StompProtocolError);
    expect(negotiateVersion(undefined)).toBe('1.0');
    expect(negotiateVersion('1.1,1.2')).toBe('1.2');
    expect(negotiateVersion('1.1')).toBe('1.1');
    expect(negotiateVersion('2.0')).toBeNull();
    expect(negotiateHeartbeat('4000,20000', 10000)).toEqual({ header: '10000,10000', sendEveryMs: 20000, expectEveryMs: 10000 });
    expect(negotiateHeartbeat('0,0', 10000)).toMatchObject({ sendEveryMs: 0, expectEveryMs: 0 });
    expect(negotiateHeartbeat(undefined, 10000)).toMatchObject({ sendEveryMs: 0, expectEveryMs: 0 });
    expect(encodeFrame('CONNECTED', { 'user-name': 'a:b' })).toBe('CONNECTED\nuser-name:a:b\n\n\u0000');
  });
});
