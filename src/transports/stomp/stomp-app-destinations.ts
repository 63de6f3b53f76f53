import type { ChatCore } from '../../core/chat-core.js';
import { parseClientMsgId } from '../../core/client-msg-id.js';
import { parseId, parsePage } from '../../core/paging.js';
import type { MessageCreated } from '../../domain/events.js';
import type { EncodedBody } from './stomp-events.js';
import { StompProtocolError, type StompFrame } from './stomp-frame.js';
import { renderMessage } from './stomp-render.js';

export type AppAction = 'sendMessage' | 'typing' | 'loadHistory' | 'editMessage' | 'deleteMessage';

const APP_CHAT = /^\/app\/chat\/([^/]+)\/(sendMessage|typing|loadHistory|editMessage|deleteMessage)$/;

/** A SEND's destination: the raw chat id (checked by the caller) and the action. */
export function parseAppDestination(frame: StompFrame): { destination: string; rawChatId: string | undefined; action: AppAction } {
  const destination = frame.headers.get('destination');
  if (destination === undefined) throw new StompProtocolError('Missing destination header', 'SEND needs a destination');
  const match = APP_CHAT.exec(destination);
  if (!match) throw new StompProtocolError('Unknown destination', `Cannot send to ${destination}; use /app/chat/{chatId}/sendMessage, /typing, /loadHistory, /editMessage or /deleteMessage`);
  return { destination, rawChatId: match[1], action: match[2] as AppAction };
}

/**
 * `SEND /app/chat/{chatId}/<action>`: decodes the JSON body and calls one core function
 * (membership was checked by the caller). `loadHistory` returns the HISTORY body for the
 * user's `/user/queue/history`; the others return null (their effects come back as events).
 */
export async function runAppDestination(
  core: ChatCore,
  userId: string,
  chatId: number,
  action: AppAction,
  raw: Buffer,
  onRetry: (replay: MessageCreated) => void = () => {},
): Promise<EncodedBody | null> {
  const body = parseJson(raw);
  switch (action) {
    case 'sendMessage': {
      const input = asObject(body, 'sendMessage');
      const replyRaw = input['replyToMessageId'];
      const clientMessageId = parseClientMsgId(input['clientMessageId'], 'clientMessageId');
      const { replay } = await core.sendMessage(userId, {
        chatId,
        text: input['content'],
        kind: input['type'] === undefined || input['type'] === null ? undefined : (input['type'] as string),
        replyTo: replyRaw === undefined || replyRaw === null ? null : parseId(replyRaw, 'replyToMessageId'),
        clientMsgId: clientMessageId,
      });
      if (replay) onRetry(replay);
      return null;
    }
    case 'editMessage': {
      // The edit comes back to every subscriber (this one too) as MESSAGE_UPDATED.
      const input = asObject(body, 'editMessage');
      await core.editMessage(userId, { chatId, messageId: parseId(input['messageId'], 'messageId') }, input['content']);
      return null;
    }
    case 'deleteMessage': {
      const input = asObject(body, 'deleteMessage');
      await core.deleteMessage(userId, { chatId, messageId: parseId(input['messageId'], 'messageId') });
      return null;
    }
    case 'typing': {
      const typing = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)['typing'] : body;
      if (typeof typing !== 'boolean') throw new StompProtocolError('Invalid typing payload', 'The body must be true or false');
      await core.setTyping(userId, chatId, typing);
      return null;
    }
    case 'loadHistory': {
      const input = body === undefined ? {} : asObject(body, 'loadHistory');
      const page = parsePage(input['limit'], input['offset'], { limit: 50, max: core.settings.maxPageSize });
      const beforeRaw = input['beforeMessageId'];
      const beforeMessageId = beforeRaw === undefined || beforeRaw === null ? null : parseId(beforeRaw, 'beforeMessageId');
      const messages = await core.history(userId, chatId, { ...page, beforeId: beforeMessageId ?? undefined });
      const json = JSON.stringify({
        type: 'HISTORY',
        chatId,
        timestamp: Date.now(),
        payload: { chatId, offset: page.offset, limit: page.limit, beforeMessageId, messages: messages.map(renderMessage) },
      });
      return { json, length: Buffer.byteLength(json) };
    }
  }
}

function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new StompProtocolError('Invalid JSON', 'The frame body is not valid JSON');
  }
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new StompProtocolError('Invalid JSON', `The ${what} body must be a JSON object`);
  return body as Record<string, unknown>;
}
