import { ChatError } from '../domain/errors.js';

/**
 * A client's own id for a send, as it came off the wire: absent (undefined or null) or a
 * string; anything else is refused under the dialect's own field name before the core is
 * asked. Its length and content are the core's send rule (`sendMessage`).
 */
export function parseClientMsgId(raw: unknown, field: string): string | null | undefined {
  if (raw === undefined || raw === null || typeof raw === 'string') return raw;
  throw new ChatError('client_msg_id_invalid', `${field} must be a string`);
}
