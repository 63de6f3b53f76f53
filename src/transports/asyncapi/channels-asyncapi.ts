import { connectionEstablishedFrame, errorFrame, messageFrame, messagesReadFrame, typingFrame } from '../channels/channels-wire.js';
import { ChannelsClose } from '../channels/close-codes.js';
import { bool, clientMsgId, constant, isoTime, nullable, numberOrStringUserId, object, openObject, positiveId, str } from './json-schema.js';
import type { DialectDoc, WireMessageDoc } from './realtime-doc.js';
import { messagesRead, parsed, sampleMessage, sampleSender, typingChanged } from './samples.js';
import { transportCloseCodes } from './transport-close-codes.js';

const CHANNEL = 'channelsChat';

const on = (m: Omit<WireMessageDoc, 'channels'>): WireMessageDoc => ({ ...m, channels: [CHANNEL] });

const username = str('The username; the user id when the user has none');

export const channelsDoc: DialectDoc = {
  name: 'channels',
  title: 'channels',
  description: 'A Django Channels style JSON WebSocket per chat (docs/dialects/channels.md).',
  channels: [
    {
      key: CHANNEL,
      address: '/ws/chat/{chat_id}/',
      title: 'channels: one chat’s socket',
      server: 'ws',
      parameters: { chat_id: 'The chat’s integer id (the trailing slash is optional)' },
      description: [
        'Auth: `Authorization: Bearer <jwt>` on the upgrade, or `?token=` / `?access_token=` (browsers).',
        'A refused connection completes the handshake and is closed at once without any frame (4401 / 4403 / 4503 / 1011). One connection per user per chat: a newer one replaces the older (4409).',
        'Frames of one connection are handled in order; past 32 waiting frames the server stops reading (TCP backpressure). A bad frame gets an `error` and the socket stays open.',
      ].join('\n\n'),
      closeCodes: [
        { ...ChannelsClose.unauthorized, when: 'no token, or one that does not verify (on connect, or when a frame’s call says so)' },
        { ...ChannelsClose.forbidden, when: 'not a member, unknown or malformed chat id (on connect); removed from the chat or the chat deleted (later)' },
        { ...ChannelsClose.replaced, when: 'the same user opened a newer connection to the same chat' },
        { ...ChannelsClose.unavailable, when: 'the database is unreachable for now (retry later)' },
        { ...ChannelsClose.internal, when: 'any other server-side failure while opening the connection' },
        ...transportCloseCodes,
      ],
    },
  ],
  messages: [
    on({
      name: 'channelsConnectionEstablished',
      action: 'send',
      frameType: 'connection_established',
      title: 'connection_established',
      summary: 'The first frame of an accepted connection.',
      payload: object({ type: constant('connection_established'), message: constant('Successfully connected to chat'), chat_id: positiveId() }),
      example: parsed(connectionEstablishedFrame(sampleMessage.chatId)),
    }),
    on({
      name: 'channelsMessage',
      action: 'send',
      frameType: 'message',
      title: 'message',
      summary: 'A new message of the chat (from any dialect), to every connection, the sender’s included.',
      payload: object({
        type: constant('message'),
        data: object(
          {
            id: positiveId('Message id'),
            text: str(),
            sender: object({ id: numberOrStringUserId(), username, first_name: str('"" when unknown'), last_name: str('"" when unknown') }),
            timestamp: isoTime(),
            is_edited: bool(),
            is_deleted: bool(),
          },
          { client_msg_id: clientMsgId() },
        ),
      }),
      example: parsed(messageFrame(sampleMessage, sampleSender)),
    }),
    on({
      name: 'channelsTyping',
      action: 'send',
      frameType: 'typing',
      title: 'typing',
      summary: 'Another member started or stopped typing (never echoed to the typist).',
      payload: object({ type: constant('typing'), user_id: numberOrStringUserId(), username, is_typing: bool() }),
      example: parsed(typingFrame(typingChanged())),
    }),
    on({
      name: 'channelsMessagesRead',
      action: 'send',
      frameType: 'messages_read',
      title: 'messages_read',
      summary: 'A member read the chat (read receipt), to every connection, the reader’s included.',
      payload: object({ type: constant('messages_read'), user_id: numberOrStringUserId(), username }),
      example: parsed(messagesReadFrame(messagesRead())),
    }),
    on({
      name: 'channelsError',
      action: 'send',
      frameType: 'error',
      title: 'error',
      summary: 'A frame was refused (Invalid JSON format, Message text cannot be empty, Unknown message type: <type>, Rate limit exceeded …); the socket stays open.',
      payload: object({ type: constant('error'), message: str() }),
      example: parsed(errorFrame('Invalid JSON format')),
    }),
    on({
      name: 'channelsClientMessage',
      action: 'receive',
      frameType: 'message',
      title: 'message',
      summary: 'Send a message (stored as sent; any `sender` field is ignored).',
      payload: openObject({ type: constant('message') }, { text: str('1..MAX_MESSAGE_LENGTH code points; missing counts as empty'), client_msg_id: nullable(clientMsgId('Makes a retry idempotent')) }),
      example: { type: 'message', text: 'Привет, как дела?' },
    }),
    on({
      name: 'channelsClientTyping',
      action: 'receive',
      frameType: 'typing',
      title: 'typing',
      summary: 'Typing on / off; a `true` expires after 6 s without a refresh.',
      payload: openObject({ type: constant('typing'), is_typing: bool() }),
      example: { type: 'typing', is_typing: true },
    }),
    on({
      name: 'channelsClientReadMessages',
      action: 'receive',
      frameType: 'read_messages',
      title: 'read_messages',
      summary: 'Mark every message of the chat read; answered by `messages_read` to every connection.',
      payload: openObject({ type: constant('read_messages') }),
      example: { type: 'read_messages' },
    }),
  ],
};
