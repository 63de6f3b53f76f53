import { randomBytes } from 'node:crypto';
import { PreparedFrame } from '../shared/prepared-frame.js';
import type { EncodedBody } from './stomp-events.js';

/** Distinct per process, so message ids of two instances never collide. */
const PREFIX = randomBytes(4).toString('hex');
let counter = 0;

interface Framed {
  readonly messageId: string;
  readonly byHead: Map<string, PreparedFrame>;
}

const framedBodies = new WeakMap<EncodedBody, Framed>();
const framedBatches = new WeakMap<readonly EncodedBody[], Map<string, PreparedFrame>>();

function framed(body: EncodedBody): Framed {
  let entry = framedBodies.get(body);
  if (!entry) framedBodies.set(body, (entry = { messageId: `${PREFIX}-${++counter}`, byHead: new Map() }));
  return entry;
}

const frameText = (head: string, body: EncodedBody): string =>
  `MESSAGE\n${head}message-id:${framed(body).messageId}\ncontent-length:${body.length}\n\n${body.json}\u0000`;

/**
 * The MESSAGE frame of one event body for one subscription head (destination + subscription
 * id), built once and shared by every connection whose subscription has the same head: clients
 * of one library number their subscriptions alike (`sub-0`, …), so a chat's recipients mostly
 * share one frame and its WebSocket bytes. The message id belongs to the body — the same
 * message under the same id wherever it goes — which is all STOMP asks of it (auto-ack only).
 */
export function messageFrame(head: string, body: EncodedBody): PreparedFrame {
  const byHead = framed(body).byHead;
  let frame = byHead.get(head);
  if (!frame) byHead.set(head, (frame = new PreparedFrame(frameText(head, body))));
  return frame;
}

/** Several bodies back to back in one wire message (STOMP frames end in NUL; clients parse a stream). */
export function batchFrame(head: string, bodies: readonly EncodedBody[]): PreparedFrame {
  let byHead = framedBatches.get(bodies);
  if (!byHead) framedBatches.set(bodies, (byHead = new Map()));
  let frame = byHead.get(head);
  if (!frame) {
    let text = '';
    for (const body of bodies) text += frameText(head, body);
    byHead.set(head, (frame = new PreparedFrame(text)));
  }
  return frame;
}
