import { CLOSE_DELETED, CLOSE_REMOVED, MAX_QUEUED_FRAMES } from '../rooms/rooms-frames.js';
import { encodeMessage } from '../rooms/rooms-chat-session.js';
import { wireMessage, wireTime, wireUserId, type WireMessage } from '../rooms/rooms-wire.js';
import { arrayOf, clientMsgId, constant, isoTime, nullable, numberOrStringUserId, object, openObject, positiveId, str } from './json-schema.js';
import type { DialectDoc, JsonSchema, WireMessageDoc } from './realtime-doc.js';
import { messageCreated, parsed, sampleMessage, sampleSender } from './samples.js';
import { transportCloseCodes } from './transport-close-codes.js';

const CHAT = 'roomsChat';
const GROUP = 'roomsGroup';
const MAIN = 'roomsMain';
const ROOM_SOCKETS = [CHAT, GROUP];

const author = object({ id: numberOrStringUserId(), name: str('The display name') });

/** The seed's Message model, with `type` fixed per frame. */
const wireMessageSchema = (type: WireMessage['type'], withId = true): JsonSchema =>
  object(
    {
      ...(withId ? { id: positiveId('Message id') } : {}),
      chat_id: positiveId(),
      type: constant(type),
      text: str(type === 'typing' || type === 'stop_typing' ? 'Always ""' : undefined),
      author,
      time: isoTime(),
    },
    withId ? { client_msg_id: clientMsgId() } : {},
  );

const authorIgnored = { author: { description: 'Ignored: the author is the authenticated user' } };

const roomMessage = (m: Omit<WireMessageDoc, 'channels'>): WireMessageDoc => ({ ...m, channels: ROOM_SOCKETS });

const historyQuery = object({}, { limit: str('Default 100, capped at 200', { pattern: '^[0-9]+$' }), offset: str('Default 0, counted back from the newest', { pattern: '^[0-9]+$' }), token: str(), access_token: str() });

const roomCloseCodes = [
  { code: CLOSE_REMOVED, reason: 'removed from chat', when: 'the user was removed from the group or left it' },
  { code: CLOSE_DELETED, reason: 'chat deleted', when: 'the group was deleted' },
  { code: 4000, reason: '<error message>', when: '4000 + HTTP status (4401, 4403, 4404 …): the history could not be read (access lost between the check and the read)' },
  { code: 1011, reason: 'internal error', when: 'the history could not be read for a server-side reason' },
  ...transportCloseCodes,
];

const upgradeRefusals =
  'The upgrade is refused before any WebSocket exists, with a plain HTTP status and `{"error"}`: 401 (no/invalid token), 400 (bad id or paging), 404 (unknown chat or the wrong kind), 403 (not a member).';

const typingExample = (type: 'typing' | 'stop_typing'): WireMessage => ({
  chat_id: sampleMessage.chatId,
  type,
  text: '',
  author: { id: wireUserId(sampleSender.id), name: 'Bob' },
  time: wireTime(sampleMessage.createdAt),
});

export const roomsDoc: DialectDoc = {
  name: 'rooms',
  title: 'rooms',
  description: 'One WebSocket per chat plus one per user (docs/dialects/rooms.md).',
  channels: [
    {
      key: CHAT,
      address: '/api/v1/chat/{id}',
      title: 'rooms: a private chat’s socket',
      server: 'ws',
      parameters: { id: 'The private chat’s id' },
      description: `History on connect, then the chat’s messages and the other member’s typing. Auth: \`Authorization: Bearer <jwt>\`, \`?token=\` or \`?access_token=\`. ${upgradeRefusals} At most ${MAX_QUEUED_FRAMES} frames may wait; frames are handled in order.`,
      closeCodes: roomCloseCodes,
      query: historyQuery,
    },
    {
      key: GROUP,
      address: '/api/v1/group/{id}',
      title: 'rooms: a group’s socket',
      server: 'ws',
      parameters: { id: 'The group’s id' },
      description: `The same frames as a private chat’s socket, for a group. ${upgradeRefusals}`,
      closeCodes: roomCloseCodes,
      query: historyQuery,
    },
    {
      key: MAIN,
      address: '/api/v1/main',
      title: 'rooms: the user’s main socket',
      server: 'ws',
      description: `A \`last_message\` for every new message in any chat of the user, whichever dialect sent it. It only receives: any client frame gets an \`error\`. ${upgradeRefusals}`,
      closeCodes: transportCloseCodes,
    },
  ],
  messages: [
    roomMessage({
      name: 'roomsHistory',
      action: 'send',
      frameType: 'history',
      title: 'history',
      summary: 'The first frame: a page of history, oldest first (`error: "no messages"` when empty). Messages committed meanwhile follow it, never twice.',
      payload: object({ type: constant('history'), messages: arrayOf(wireMessageSchema('message')) }, { error: constant('no messages') }),
      example: { type: 'history', messages: [wireMessage(sampleMessage, 'Bob')] },
    }),
    roomMessage({
      name: 'roomsMessage',
      action: 'send',
      frameType: 'message',
      title: 'message',
      summary: 'A new message of the chat (from any dialect), the user’s own included.',
      payload: wireMessageSchema('message'),
      example: parsed(encodeMessage(messageCreated()).text),
    }),
    roomMessage({
      name: 'roomsTyping',
      action: 'send',
      frameType: 'typing',
      title: 'typing',
      summary: 'Another member is typing (not refreshed within 6 s: a `stop_typing` follows).',
      payload: wireMessageSchema('typing', false),
      example: typingExample('typing'),
    }),
    roomMessage({
      name: 'roomsStopTyping',
      action: 'send',
      frameType: 'stop_typing',
      title: 'stop_typing',
      summary: 'Another member stopped typing.',
      payload: wireMessageSchema('stop_typing', false),
      example: typingExample('stop_typing'),
    }),
    {
      name: 'roomsLastMessage',
      channels: [MAIN],
      action: 'send',
      frameType: 'last_message',
      title: 'last_message',
      summary: 'A new message in any chat of the user.',
      payload: wireMessageSchema('last_message'),
      example: wireMessage(sampleMessage, 'Bob', 'last_message'),
    },
    {
      name: 'roomsError',
      channels: [CHAT, GROUP, MAIN],
      action: 'send',
      frameType: 'error',
      title: 'error',
      summary: 'A frame was refused; the socket stays open.',
      payload: object({ type: constant('error'), error: str('Invalid JSON, Unknown message type: <type>, Message text cannot be empty, Rate limit exceeded, … (docs/dialects/rooms.md)') }),
      example: { type: 'error', error: 'Message text cannot be empty' },
    },
    roomMessage({
      name: 'roomsClientMessage',
      action: 'receive',
      frameType: 'message',
      title: 'message',
      summary: 'Send a message to the chat.',
      payload: openObject({ type: constant('message'), text: str('1..MAX_MESSAGE_LENGTH code points, not only whitespace') }, { client_msg_id: nullable(clientMsgId('Makes a retry idempotent')), ...authorIgnored }),
      example: { type: 'message', text: 'hello', author: { id: 1, name: 'ignored' } },
    }),
    roomMessage({
      name: 'roomsClientTyping',
      action: 'receive',
      frameType: 'typing',
      title: 'typing',
      summary: 'Start typing: the other members’ sockets get `typing`.',
      payload: openObject({ type: constant('typing') }, authorIgnored),
      example: { type: 'typing' },
    }),
    roomMessage({
      name: 'roomsClientStopTyping',
      action: 'receive',
      frameType: 'stop_typing',
      title: 'stop_typing',
      summary: 'Stop typing.',
      payload: openObject({ type: constant('stop_typing') }, authorIgnored),
      example: { type: 'stop_typing' },
    }),
  ],
};
