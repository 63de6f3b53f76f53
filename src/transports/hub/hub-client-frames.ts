import type { ChatCore } from '../../core/chat-core.js';
import { parseClientMsgId } from '../../core/client-msg-id.js';
import { parseId } from '../../core/paging.js';
import { badRequest } from '../../domain/errors.js';
import type { MessageCreated } from '../../domain/events.js';

/** What a client may send: `{type, data}` with one of these types. */
export const CLIENT_EVENT_TYPES = ['message', 'typing', 'read'] as const;

/**
 * Decodes one text frame and runs it through the core. Every client mistake surfaces as a
 * `ChatError('bad_request')` (or the core's own error), which the socket turns into an
 * `error` event; nothing here closes the socket. Returns the original message's event when a
 * `message` was a retry (same `client_msg_id`): only the retrying socket gets it again.
 */
export async function runClientFrame(core: ChatCore, userId: string, text: string): Promise<MessageCreated | null> {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON');
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw badRequest('Frame must be a JSON object {type, data}');
  const { type, data } = frame as { type?: unknown; data?: unknown };
  if (typeof type !== 'string') throw badRequest('type must be a string');
  if (!(CLIENT_EVENT_TYPES as readonly string[]).includes(type)) throw badRequest(`Unknown event type: ${type.slice(0, 64)}`);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw badRequest('data must be an object');
  const fields = data as Record<string, unknown>;
  if (fields['conversation_id'] === undefined) throw badRequest('data.conversation_id is required');
  const chatId = parseId(fields['conversation_id'], 'data.conversation_id');
  switch (type) {
    case 'message': {
      if (fields['body'] === undefined) throw badRequest('data.body is required');
      if (typeof fields['body'] !== 'string') throw badRequest('data.body must be a string');
      const clientMsgId = parseClientMsgId(fields['client_msg_id'], 'data.client_msg_id');
      const { replay } = await core.sendMessage(userId, { chatId, text: fields['body'], clientMsgId });
      return replay ?? null;
    }
    case 'typing':
      if (typeof fields['is_typing'] !== 'boolean') throw badRequest('data.is_typing must be a boolean');
      await core.setTyping(userId, chatId, fields['is_typing']);
      return null;
    case 'read':
      await core.markRead(userId, chatId);
      return null;
  }
  return null;
}
