import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stompDialect } from '../../../src/transports/stomp/stomp-dialect.js';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { sleep, waitFor } from '../../support/wait.js';

interface RawFrame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

/** A bare `ws` client speaking STOMP by hand, for frames no library would send. */
class RawStomp {
  readonly frames: RawFrame[] = [];
  heartbeats = 0;
  closeCode: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      for (const part of data.toString().split('\u0000')) {
        const text = part.replace(/^(\r?\n)+/, (eols) => {
          this.heartbeats += eols.split('\n').length - 1;
          return '';
        });
        if (text === '') continue;
        const [head = '', ...rest] = text.split('\n\n');
        const [command = '', ...lines] = head.split('\n');
        const headers: Record<string, string> = {};
        for (const l of lines) headers[l.slice(0, l.indexOf(':'))] ??= l.slice(l.indexOf(':') + 1);
        this.frames.push({ command, headers, body: rest.join('\n\n') });
      }
    });
    ws.on('close', (code) => {
      this.closeCode = code;
    });
    ws.on('error', () => {});
  }
  static open(url: string): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v12.stomp']);
      ws.once('open', () => resolve(new RawStomp(ws)));
      ws.once('error', reject);
    });
  }
  send(data: string | Buffer): void {
    this.ws.send(data);
  }
  frame(command: string): Promise<RawFrame> {
    return waitFor(() => this.frames.find((f) => f.command === command), 5000, `${command} frame; got ${JSON.stringify(this.frames)}`);
  }
  closed(): Promise<number> {
    return waitFor(() => this.closeCode ?? false, 5000, 'close');
  }
}

describe.each(backends)('stomp raw frames on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let chatId: number;
  const url = () => `${t.wsUrl}/ws-chat`;
  const connectFrame = (extra = '') => `CONNECT\naccept-version:1.0,1.1,1.2\nhost:localhost\nAuthorization:Bearer ${alice.token}\n${extra}\n\u0000`;
  const connected = async (extra = ''): Promise<RawStomp> => {
    const s = await RawStomp.open(url());
    s.send(connectFrame(extra));
    await s.frame('CONNECTED');
    return s;
  };

  beforeAll(async () => {
    t = await startServer(backend, { dialects: [stompDialect({ heartbeatMs: 100, incompleteFrameMs: 300, connectTimeoutMs: 1500 })] });
    alice = await registerUser(t);
    chatId = Number((await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Raw', participantIds: [] })).body.id);
  });
  afterAll(async () => t.close());

  it('answers CONNECT with CONNECTED (version, heart-beat, server, user-name) and RECEIPTs any frame', async () => {
    const s = await connected('heart-beat:0,0\n');
    const c = s.frames[0]!;
    expect(c.headers).toMatchObject({ version: '1.2', 'heart-beat': '100,100', 'user-name': alice.id, server: expect.any(String) });
    s.send(`SUBSCRIBE\nid:sub\\c1\ndestination:/topic/chat/${chatId}\nreceipt:r\\c1\n\n\u0000`);
    expect((await s.frame('RECEIPT')).headers['receipt-id']).toBe('r\\c1');
    s.send(`SEND\ndestination:/app/chat/${chatId}/sendMessage\ncontent-type:application/json\n\n{"content":"raw hello"}\u0000`);
    const m = await s.frame('MESSAGE');
    expect(m.headers).toMatchObject({ subscription: 'sub\\c1', destination: `/topic/chat/${chatId}`, 'content-type': 'application/json' });
    expect(JSON.parse(m.body)).toMatchObject({ type: 'MESSAGE', chatId, payload: { content: 'raw hello' } });
    s.send('ACK\nid:x\n\n\u0000NACK\nid:y\n\n\u0000');
    s.send('DISCONNECT\nreceipt:bye\n\n\u0000');
    await waitFor(() => s.frames.find((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'bye'), 5000, 'bye');
    expect(await s.closed()).toBe(1000);
  });

  it('takes the token from the upgrade request when CONNECT carries none', async () => {
    for (const [target, headers] of [
      [`${url()}?access_token=${alice.token}`, {}],
      [url(), { authorization: `Bearer ${alice.token}` }],
    ] as const) {
      const ws = new WebSocket(target, ['v12.stomp'], { headers });
      const reply = await new Promise<string>((resolve, reject) => {
        ws.on('open', () => ws.send('CONNECT\naccept-version:1.2\nhost:x\n\n\u0000'));
        ws.on('message', (d) => resolve(d.toString()));
        ws.on('error', reject);
      });
      expect(reply).toMatch(new RegExp(`^CONNECTED\n[\\s\\S]*user-name:${alice.id}\n`));
      ws.close();
    }
  });

  it('negotiates 1.0/1.1 and refuses unsupported versions', async () => {
    const s = await RawStomp.open(url());
    s.send(`CONNECT\naccept-version:1.1\nAuthorization:Bearer ${alice.token}\n\n\u0000`);
    expect((await s.frame('CONNECTED')).headers['version']).toBe('1.1');
    const s0 = await RawStomp.open(url());
    s0.send(`STOMP\ntoken:${alice.token}\n\n\u0000`);
    expect((await s0.frame('CONNECTED')).headers['version']).toBe('1.0');
    const s2 = await RawStomp.open(url());
    s2.send(`CONNECT\naccept-version:2.0\nAuthorization:Bearer ${alice.token}\n\n\u0000`);
    expect((await s2.frame('ERROR')).headers['message']).toMatch(/version/);
    await s2.closed();
    for (const x of [s, s0]) x.ws.close();
  });

  it('sends heart-beat EOLs as negotiated and drops a client silent past twice the interval', async () => {
    const s = await connected('heart-beat:100,100\n');
    await waitFor(() => s.heartbeats >= 2, 5000, 'heart-beats');
    expect(await s.closed()).toBe(4000);
  });

  it('keeps a client alive while it sends heart-beats', async () => {
    const s = await connected('heart-beat:100,100\n');
    const timer = setInterval(() => s.send('\n'), 50);
    await sleep(600);
    clearInterval(timer);
    expect(s.closeCode).toBeNull();
    s.ws.close();
  });

  const malformed: [string, string | Buffer, RegExp][] = [
    ['unknown command', 'HELLO\n\n\u0000', /Unknown command/],
    ['binary garbage', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09]), /Unknown command/],
    ['bad header escape', 'SEND\ndestination:/app/x\\q\n\n{}\u0000', /escape/],
    ['header without colon', 'SEND\nnonsense\n\n\u0000', /Malformed header/],
    ['bad content-length', 'SEND\ndestination:/a\ncontent-length:-5\n\n\u0000', /content-length/],
    ['body larger than the limit', `SEND\ndestination:/app/chat/1/sendMessage\ncontent-length:${10 * 1024 * 1024}\n\n`, /Frame too large/],
    ['frame with no NUL', 'SEND\ndestination:/app/chat/1/sendMessage\n\n{"content":"never ends"}', /Incomplete frame/],
    ['SUBSCRIBE without id', `SUBSCRIBE\ndestination:/topic/chat/1\n\n\u0000`, /Missing id header/],
    ['SEND without destination', 'SEND\n\n{}\u0000', /Missing destination header/],
    ['second CONNECT', 'CONNECT\naccept-version:1.2\n\n\u0000', /Already connected/],
  ];
  for (const [name, data, message] of malformed) {
    it(`answers ${name} with an ERROR frame and closes`, async () => {
      const s = await connected();
      s.send(data);
      const err = await s.frame('ERROR');
      expect(err.headers['message']).toMatch(message);
      expect(err.body.length).toBeGreaterThan(0);
      expect(await s.closed()).toBe(1002);
    });
  }

  it('refuses frames before CONNECT, a missing token and a silent connection', async () => {
    const s = await RawStomp.open(url());
    s.send(`SUBSCRIBE\nid:1\ndestination:/topic/chat/${chatId}\n\n\u0000`);
    expect((await s.frame('ERROR')).headers['message']).toBe('Not connected');
    const u = await RawStomp.open(url());
    u.send('CONNECT\naccept-version:1.2\n\n\u0000');
    expect((await u.frame('ERROR')).headers['message']).toBe('Unauthorized');
    expect(await u.closed()).toBe(1002);
    const q = await RawStomp.open(url());
    expect((await q.frame('ERROR')).headers['message']).toBe('CONNECT expected');
  });

  it('closes a WebSocket frame over the size limit with 1009, and the server stays up', async () => {
    const s = await connected();
    s.send(`SEND\ndestination:/app/chat/${chatId}/sendMessage\n\n${'x'.repeat(70 * 1024)}\u0000`);
    expect(await s.closed()).toBe(1009);
    const history = await api(t, alice, 'GET', `/api/chats/${chatId}/messages`);
    expect(history.status).toBe(200);
    expect(history.body.every((m: any) => m.content === 'raw hello')).toBe(true);
  });
});
