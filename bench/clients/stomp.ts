import WebSocket from 'ws';
import type { Member } from '../topology.js';
import { withTimeout, wsUrl, type Connection, type Driver, type Receiver } from './driver.js';

/**
 * `stomp` over plain WebSocket with hand-written STOMP 1.2 frames. `@stomp/stompjs` would work
 * but is far too heavy for 1000 clients in one generator process on a 2-core machine (a client
 * object, timers and a frame parser per connection); the bench only needs CONNECT, SUBSCRIBE,
 * SEND and to read MESSAGE / RECEIPT / ERROR.
 */

interface Frame {
  readonly command: string;
  readonly headers: Map<string, string>;
  readonly body: string;
}

function frame(command: string, headers: Record<string, string>, body = ''): string {
  let out = `${command}\n`;
  for (const [k, v] of Object.entries(headers)) out += `${k}:${v}\n`;
  return `${out}\n${body}\0`;
}

/** Every frame in one WebSocket message (heart-beat EOLs skipped). */
function parseFrames(raw: string): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of raw.split('\0')) {
    const text = chunk.replace(/^(\r?\n)+/, '');
    if (text === '') continue;
    const headerEnd = text.indexOf('\n\n');
    const head = (headerEnd < 0 ? text : text.slice(0, headerEnd)).split('\n');
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0 && !headers.has(line.slice(0, colon))) headers.set(line.slice(0, colon), line.slice(colon + 1).replace(/\r$/, ''));
    }
    frames.push({ command: (head[0] ?? '').replace(/\r$/, ''), headers, body: headerEnd < 0 ? '' : text.slice(headerEnd + 2) });
  }
  return frames;
}

interface Envelope {
  type?: string;
  payload?: { id?: string | number; content?: string };
}

export const stompDriver: Driver = {
  name: 'stomp',
  inlineSeq: false,
  connect(baseUrl, member, group, receiver) {
    const ws = new WebSocket(wsUrl(baseUrl, '/ws-chat'), ['v12.stomp'], { perMessageDeflate: false });
    const destination = `/app/chat/${group.chatId}/sendMessage`;
    let ready = false;
    let closedByUs = false;
    const connection: Connection = {
      send(text) {
        if (ws.readyState !== WebSocket.OPEN) return receiver.error(member, 'send on a closed socket');
        const body = JSON.stringify({ content: text, type: 'TEXT' });
        ws.send(frame('SEND', { destination, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body));
      },
      close() {
        closedByUs = true;
        ws.terminate();
      },
      get open() {
        return ws.readyState === WebSocket.OPEN;
      },
    };
    const opened = new Promise<Connection>((resolve, reject) => {
      ws.on('open', () => {
        ws.send(frame('CONNECT', { 'accept-version': '1.2,1.1,1.0', host: '127.0.0.1', 'heart-beat': '0,0', Authorization: `Bearer ${member.token}` }));
      });
      ws.on('message', (data: Buffer) => {
        const raw = data.toString();
        // One WebSocket message may carry several STOMP frames (a flush's MESSAGE_DELIVERED): count each.
        for (let at = raw.indexOf('\0'); at >= 0; at = raw.indexOf('\0', at + 1)) receiver.frame();
        // Fast path: MESSAGE frames none of which is a chat message (MESSAGE_DELIVERED ×9 per
        // message, TYPING, USER_ONLINE …) are skipped without parsing their headers.
        if (raw.startsWith('MESSAGE\n') && !raw.includes('"MESSAGE"')) return;
        for (const f of parseFrames(raw)) {
          switch (f.command) {
            case 'CONNECTED':
              ws.send(frame('SUBSCRIBE', { id: 'sub-0', destination: `/topic/chat/${group.chatId}`, receipt: 'subscribed' }));
              break;
            case 'RECEIPT':
              if (f.headers.get('receipt-id') === 'subscribed' && !ready) {
                ready = true;
                resolve(connection);
              }
              break;
            case 'MESSAGE': {
              // Only MESSAGE envelopes carry our text; MESSAGE_DELIVERED, TYPING, USER_ONLINE … are skipped.
              if (!f.body.includes('"MESSAGE"')) break;
              const envelope = JSON.parse(f.body) as Envelope;
              if (envelope.type === 'MESSAGE' && typeof envelope.payload?.content === 'string') {
                receiver.deliver(member, envelope.payload.content, envelope.payload.id === undefined ? null : Number(envelope.payload.id), null);
              }
              break;
            }
            case 'ERROR':
              if (!ready) reject(new Error(`stomp ${member.userId}: ERROR ${f.headers.get('message') ?? ''} ${f.body}`));
              else receiver.error(member, `ERROR ${f.headers.get('message') ?? f.body}`);
              break;
            default:
              break;
          }
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        reject(new Error(`stomp ${member.userId}: upgrade refused with HTTP ${res.statusCode}`));
        ws.terminate();
      });
      ws.on('error', (err) => {
        if (!ready) reject(new Error(`stomp ${member.userId}: ${err.message}`));
      });
      ws.on('close', (code, reason) => {
        if (!ready) reject(new Error(`stomp ${member.userId}: closed ${code} ${reason.toString()} before ready`));
        else if (!closedByUs) receiver.error(member, `closed ${code} ${reason.toString()}`);
      });
    });
    return withTimeout(opened, 15_000, `stomp ${member.userId}`);
  },
};
