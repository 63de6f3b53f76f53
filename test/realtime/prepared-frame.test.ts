import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { PreparedFrame, writePrepared } from '../../src/transports/shared/prepared-frame.js';

describe('PreparedFrame', () => {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1 << 20 });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    wss.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reaches a real client byte for byte, at every header length, shared by several sockets', async () => {
    // Header sizes: 7-bit (≤ 125), 16-bit (126 … 65535) and 64-bit (≥ 65536) payload lengths, multi-byte UTF-8.
    const texts = ['', 'x'.repeat(125), 'y'.repeat(126), 'é'.repeat(40_000), 'z'.repeat(65_535), 'w'.repeat(65_536), `«юникод» 😀 ${'q'.repeat(70_000)}`];
    const frames = texts.map((t) => new PreparedFrame(t));
    const received: string[][] = [[], []];
    const clients = await Promise.all(
      received.map(
        (into) =>
          new Promise<WebSocket>((resolve) => {
            const ws = new WebSocket(url);
            ws.on('message', (data, isBinary) => {
              expect(isBinary).toBe(false);
              into.push(data.toString());
            });
            ws.on('open', () => resolve(ws));
          }),
      ),
    );
    while (wss.clients.size < clients.length) await new Promise((r) => setTimeout(r, 10));
    for (const frame of frames) for (const peer of wss.clients) writePrepared(peer, frame);
    // Ordinary sends interleave correctly with prepared ones.
    for (const peer of wss.clients) peer.send('after');
    const deadline = Date.now() + 5000;
    while (received.some((r) => r.length < texts.length + 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const r of received) expect(r).toEqual([...texts, 'after']);
    expect(frames[3]!.bytes()).toBe(frames[3]!.bytes());
    for (const ws of clients) ws.close();
  });
});
