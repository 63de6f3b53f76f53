import { Client, type IFrame, type IMessage, type StompSubscription } from '@stomp/stompjs';
import SockJS from 'sockjs-client';
import WebSocket from 'ws';
import type { TestServer } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';

export type Transport = 'websocket' | 'xhr-streaming' | 'xhr-polling';

/** A connected @stomp/stompjs client that records every MESSAGE per destination and every ERROR. */
export class StompTestClient {
  readonly messages: { destination: string; body: any; headers: Record<string, string> }[] = [];
  readonly errors: IFrame[] = [];
  closed = false;
  private constructor(readonly client: Client) {}

  static async connect(
    t: TestServer,
    token: string | null,
    options: { sockjs?: boolean; transport?: Transport; connectHeaders?: Record<string, string>; query?: string } = {},
  ): Promise<StompTestClient> {
    const transport = options.transport ?? 'websocket';
    const query = options.query ?? '';
    const client = new Client({
      webSocketFactory: () =>
        options.sockjs
          ? new SockJS(`${t.url}/ws-chat${query}`, null, { transports: [transport] })
          : new WebSocket(`${t.wsUrl}/ws-chat${query}`, ['v12.stomp']),
      connectHeaders: options.connectHeaders ?? (token ? { Authorization: `Bearer ${token}` } : {}),
      reconnectDelay: 0,
      heartbeatIncoming: 10_000,
      heartbeatOutgoing: 10_000,
      debug: () => {},
    });
    const c = new StompTestClient(client);
    client.onStompError = (frame) => c.errors.push(frame);
    client.onWebSocketClose = () => {
      c.closed = true;
    };
    await new Promise<void>((resolve, reject) => {
      client.onConnect = () => resolve();
      client.onStompError = (frame) => {
        c.errors.push(frame);
        reject(Object.assign(new Error(`STOMP ERROR: ${frame.headers['message']}`), { frame }));
      };
      client.onWebSocketClose = () => {
        c.closed = true;
        reject(new Error('closed before CONNECTED'));
      };
      client.activate();
    });
    client.onStompError = (frame) => c.errors.push(frame);
    client.onWebSocketClose = () => {
      c.closed = true;
    };
    return c;
  }

  /** Subscribes and waits for the server's RECEIPT, so the subscription is in place. */
  async subscribe(destination: string): Promise<StompSubscription> {
    const receipt = `r-${Math.random().toString(36).slice(2)}`;
    const done = new Promise<void>((resolve) => this.client.watchForReceipt(receipt, () => resolve()));
    const sub = this.client.subscribe(destination, (m: IMessage) => this.record(destination, m), { receipt });
    await Promise.race([done, waitFor(() => this.closed || this.errors.length > 0, 5000, 'receipt')]);
    return sub;
  }

  send(destination: string, body: unknown): void {
    this.client.publish({ destination, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  async sendWithReceipt(destination: string, body: unknown): Promise<void> {
    const receipt = `s-${Math.random().toString(36).slice(2)}`;
    const done = new Promise<void>((resolve) => this.client.watchForReceipt(receipt, () => resolve()));
    this.client.publish({ destination, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { receipt } });
    await done;
  }

  next(destination: string, match: (body: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    return waitFor(() => this.messages.find((m) => m.destination === destination && match(m.body))?.body, timeoutMs, `message on ${destination}`);
  }

  async error(timeoutMs = 5000): Promise<IFrame> {
    return waitFor(() => this.errors[0], timeoutMs, 'ERROR frame');
  }

  async close(): Promise<void> {
    await this.client.deactivate();
  }

  private record(destination: string, m: IMessage): void {
    this.messages.push({ destination, body: JSON.parse(m.body), headers: m.headers });
  }
}
