import { rawToBuffer } from '../shared/raw-data.js';

/** What a client frame asks for, decoded from the wire; validation of values is the core's. */
export type ClientFrame =
  | { readonly kind: 'message'; readonly text: unknown; readonly clientMsgId: unknown }
  | { readonly kind: 'typing'; readonly isTyping: unknown }
  | { readonly kind: 'read_messages' }
  | { readonly kind: 'invalid'; readonly error: string };

const invalid = (error: string): ClientFrame => ({ kind: 'invalid', error });

/**
 * Decodes one WebSocket frame. Wording follows the seed where it has one (`Invalid JSON
 * format`, `Unknown message type: <type>`); the other refusals name what is wrong.
 */
export function decodeClientFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ClientFrame {
  // The seed has one word for any frame that is not JSON text, binary frames included.
  if (isBinary) return invalid('Invalid JSON format');
  const text = rawToBuffer(data).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return invalid('Invalid JSON format');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid('Invalid message format: expected a JSON object');
  const frame = parsed as Record<string, unknown>;
  const type = frame['type'];
  if (type === undefined || type === null) return invalid('Message type is required');
  if (typeof type !== 'string') return invalid('Message type must be a string');
  switch (type) {
    case 'message':
      // The seed reads a missing text as empty (`data.get('text', '')`): the core then refuses it as empty.
      return { kind: 'message', text: frame['text'] ?? '', clientMsgId: frame['client_msg_id'] };
    case 'typing':
      return { kind: 'typing', isTyping: frame['is_typing'] };
    case 'read_messages':
      return { kind: 'read_messages' };
    default:
      return invalid(`Unknown message type: ${type}`);
  }
}
