import WebSocket from 'ws';

/** A `hub` message as the scale scenarios need it: chat, seq, text. */
export interface HubMessage {
  readonly chatId: string;
  readonly seq: number;
  readonly text: string;
}

export interface LeanSocket {
  send(chatId: string, text: string): void;
  /** Drops the connection at once (RST), the way a lost network or a dying proxy does. */
  drop(): void;
  readonly open: boolean;
}

/**
 * One `hub` socket (`/api/v1/ws`, Authorization header) with nothing but what thousands of
 * simulated clients in one process can afford: message frames handed to `onMessage`, the rest
 * ignored. Resolves once open; rejects after 15 s.
 */
export function openHubSocket(baseUrl: string, token: string, onMessage: (m: HubMessage) => void, onLost?: () => void): Promise<LeanSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  let dropped = false;
  const socket: LeanSocket = {
    send(chatId, text) {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'message', data: { conversation_id: chatId, body: text } }));
    },
    drop() {
      dropped = true;
      ws.terminate();
    },
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
  };
  ws.on('message', (data: Buffer) => {
    const raw = data.toString();
    // Cheap filter before parsing: most frames of a big group are messages, the rest is skipped.
    if (!raw.startsWith('{"type":"message"')) return;
    const frame = JSON.parse(raw) as { data?: { conversation_id?: string | number; body?: string; seq?: number } };
    const d = frame.data;
    if (d && typeof d.body === 'string' && typeof d.seq === 'number') onMessage({ chatId: String(d.conversation_id), seq: d.seq, text: d.body });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('hub socket: not open within 15 s'));
    }, 15_000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`hub socket: upgrade refused with HTTP ${res.statusCode}`));
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      if (!dropped) onLost?.();
    });
  });
}
