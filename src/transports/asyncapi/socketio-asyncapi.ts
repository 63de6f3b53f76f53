import { badRequest, ErrorCodes, forbidden } from '../../domain/errors.js';
import { NO_ACCESS, toErrorAck } from '../socketio/socketio-errors.js';
import { toSocketIoMessage, toSocketIoUser } from '../socketio/message-shape.js';
import { arrayOf, clientMsgId, constant, int, isoTime, nullable, object, oneOfValues, openObject, str, stringId } from './json-schema.js';
import type { DialectDoc, JsonSchema, WireMessageDoc } from './realtime-doc.js';
import { deletedMessage, editedMessage, sampleChat, sampleMessage, sampleSender } from './samples.js';

const CHANNEL = 'socketio';

const user = object({ id: str(), email: nullable(str()), username: str('Falls back to the display name, then the id: never empty') });
const message = object(
  { id: stringId('Message id'), text: str(), sender: str('The sender’s user id'), chatId: stringId(), createdAt: isoTime(), user },
  {
    clientMsgId: clientMsgId(),
    editedAt: isoTime('Only on an edited message'),
    deletedAt: isoTime('Only on a deleted message’s tombstone (its text is "")'),
    changeSeq: int('Only on a changed message: the chat’s change cursor at its latest change', { minimum: 1 }),
  },
);
const chat = object({ id: stringId(), type: oneOfValues(['private', 'group']), name: nullable(str()), users: arrayOf(user), messages: arrayOf(message, 'The last message, or none'), updatedAt: isoTime() });

const errorAck = object(
  { success: constant(false), error: str(`Human-readable; access refusals read "${NO_ACCESS}"`), code: oneOfValues(Object.keys(ErrorCodes), 'The core’s stable error code') },
  {},
  'The failure answer of every event',
);
const success = (fields: Record<string, JsonSchema>): JsonSchema => object({ success: constant(true), ...fields });

const chatIdIn: JsonSchema = { oneOf: [stringId(), int(undefined, { minimum: 1 })], description: 'A positive integer, as a string or a number' };

interface EventDoc {
  readonly event: string;
  readonly summary: string;
  readonly payload: JsonSchema;
  readonly example: unknown;
  readonly answer: JsonSchema;
  readonly answerExample: unknown;
}

const sampleUser = toSocketIoUser(sampleSender);
const sampleWireMessage = toSocketIoMessage(sampleMessage, sampleSender);
const editedWireMessage = toSocketIoMessage(editedMessage, sampleSender);
const messageIdIn: JsonSchema = { oneOf: [stringId(), int(undefined, { minimum: 1 })], description: 'A positive integer, as a string or a number' };

/** The client's events; each is answered through its acknowledgement callback. */
const events: readonly EventDoc[] = [
  {
    event: 'send_message',
    summary: 'Send a message (no `join_chat` needed, only membership). Every socket that joined the chat gets `new_message`.',
    payload: openObject({ chatId: chatIdIn, text: str('1..MAX_MESSAGE_LENGTH code points, not only whitespace') }, { clientMsgId: nullable(clientMsgId('Makes a retry idempotent: the ack repeats the original')) }),
    example: { chatId: '7', text: 'hello', clientMsgId: 'c-1f3a' },
    answer: success({ message }),
    answerExample: { success: true, message: sampleWireMessage },
  },
  {
    event: 'join_chat',
    summary: 'Join a chat: this socket gets its `new_message` from now on; answers the latest 50 messages, oldest first.',
    payload: openObject({ chatId: chatIdIn }),
    example: { chatId: '7' },
    answer: success({ messages: arrayOf(message) }),
    answerExample: { success: true, messages: [sampleWireMessage] },
  },
  {
    event: 'leave_chat',
    summary: 'Stop getting the chat’s `new_message` on this socket (a chat never joined is a no-op success).',
    payload: openObject({ chatId: chatIdIn }),
    example: { chatId: '7' },
    answer: success({}),
    answerExample: { success: true },
  },
  {
    event: 'get_chat_messages',
    summary: 'A page of history: `limit` (default 50, capped at 200) and `offset` count back from the newest; oldest first. Does not join.',
    payload: openObject({ chatId: chatIdIn }, { limit: { oneOf: [int(undefined, { minimum: 0 }), str(undefined, { pattern: '^[0-9]+$' })] }, offset: { oneOf: [int(undefined, { minimum: 0 }), str(undefined, { pattern: '^[0-9]+$' })] } }),
    example: { chatId: '7', limit: 50, offset: 0 },
    answer: success({ messages: arrayOf(message) }),
    answerExample: { success: true, messages: [sampleWireMessage] },
  },
  {
    event: 'get_my_chats',
    summary: 'Every chat of the user, newest activity first, with its members and last message.',
    payload: {},
    example: {},
    answer: success({ chats: arrayOf(chat) }),
    answerExample: {
      success: true,
      chats: [{ id: String(sampleChat.id), type: sampleChat.type, name: sampleChat.name, users: [sampleUser], messages: [sampleWireMessage], updatedAt: new Date(sampleChat.updatedAt).toISOString() }],
    },
  },
  {
    event: 'edit_message',
    summary: 'Edit your own message (the send’s text rules); the sockets that joined its chat get `message_updated`. Someone else’s: `forbidden`; unknown or deleted: `not_found`.',
    payload: openObject({ messageId: messageIdIn, text: str('1..MAX_MESSAGE_LENGTH code points, not only whitespace') }),
    example: { messageId: '42', text: 'hello, edited' },
    answer: success({ message }),
    answerExample: { success: true, message: editedWireMessage },
  },
  {
    event: 'delete_message',
    summary: 'Delete a message (the author, or a group owner/admin); the sockets that joined its chat get `message_deleted`.',
    payload: openObject({ messageId: messageIdIn }),
    example: { messageId: '42' },
    answer: success({}),
    answerExample: { success: true },
  },
  {
    event: 'get_chat_changes',
    summary: 'Catch-up of edits and deletes: the messages whose latest change is after `after` (default 0), in change order, each in its current state, and the `cursor` to ask after next.',
    payload: openObject({ chatId: chatIdIn }, { after: { oneOf: [int(undefined, { minimum: 0 }), str(undefined, { pattern: '^[0-9]+$' })] }, limit: { oneOf: [int(undefined, { minimum: 0 }), str(undefined, { pattern: '^[0-9]+$' })] } }),
    example: { chatId: '7', after: 0 },
    answer: success({ changes: arrayOf(message), cursor: int(undefined, { minimum: 0 }) }),
    answerExample: { success: true, changes: [editedWireMessage], cursor: editedMessage.changeSeq },
  },
  {
    event: 'search_messages',
    summary:
      'Full-text search over the chats the user is a member of now: best match first, then newest; deleted messages never match. `q`: 1–200 characters, web-search syntax (words all required, "quoted phrase", -exclude, or), case-insensitive, any language, no stemming. `limit` (default 50, capped at 200) and `offset` page it.',
    payload: openObject({ q: str('1..200 code points, not only whitespace') }, { limit: { oneOf: [int(undefined, { minimum: 0 }), str(undefined, { pattern: '^[0-9]+$' })] }, offset: { oneOf: [int(undefined, { minimum: 0 }), str(undefined, { pattern: '^[0-9]+$' })] } }),
    example: { q: 'привет world', limit: 20 },
    answer: success({ messages: arrayOf(message) }),
    answerExample: { success: true, messages: [sampleWireMessage] },
  },
];

/** Failure answers, from the dialect's one error mapper. */
const errorAckExamples = [toErrorAck(forbidden('not a member')), toErrorAck(badRequest('chatId must be a positive integer'))];

const camel = (event: string): string => event.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());

const eventMessages = events.flatMap((e): WireMessageDoc[] => [
  {
    name: `socketio${camel(e.event)}`,
    channels: [CHANNEL],
    action: 'receive',
    frameType: e.event,
    title: e.event,
    summary: e.summary,
    description: 'Emitted with an acknowledgement callback; the answer is the reply message. Without a callback the event still runs and its result is dropped.',
    payload: e.payload,
    example: e.example,
    reply: `socketio${camel(e.event)}Ack`,
  },
  {
    name: `socketio${camel(e.event)}Ack`,
    channels: [CHANNEL],
    action: 'send',
    frameType: `ack:${e.event}`,
    title: `${e.event} acknowledgement`,
    summary: `The answer to \`${e.event}\`: \`{success: true, …}\` or \`{success: false, error, code}\`.`,
    payload: { oneOf: [e.answer, errorAck] },
    example: e.answerExample,
    moreExamples: errorAckExamples,
  },
]);

export const socketioDoc: DialectDoc = {
  name: 'socketio',
  title: 'socketio',
  description: 'Socket.IO v4 (Engine.IO 4) at the default path `/socket.io/`, default namespace (docs/dialects/socketio.md).',
  channels: [
    {
      key: CHANNEL,
      address: '/',
      title: 'socketio: the default namespace',
      server: 'socketio',
      description: [
        'Socket.IO v4 at `/socket.io/` (websocket and long-polling). Each message below is a Socket.IO event: its name is the message’s title; client events take an acknowledgement callback, answered by the matching `… acknowledgement` message.',
        'Auth, in this order: `auth.token` (with or without `Bearer `), the `Authorization: Bearer <jwt>` header (`extraHeaders`), `?token=` / `?access_token=` (`query`). A refusal is `connect_error` with `message: "Unauthorized"` and `data: {code: "unauthorized"}`; no socket is made.',
        'An unknown event with a callback is answered `{success: false, error: "Unknown event: <name>", code: "bad_request"}`. Errors never close the connection; a client reading too slowly is disconnected (`io server disconnect`).',
      ].join('\n\n'),
    },
  ],
  messages: [
    ...eventMessages,
    {
      name: 'socketioNewMessage',
      channels: [CHANNEL],
      action: 'send',
      frameType: 'new_message',
      title: 'new_message',
      summary: 'A new message in a chat this socket joined (from any dialect), the sender’s own sockets included.',
      payload: message,
      example: sampleWireMessage,
    },
    {
      name: 'socketioMessageUpdated',
      channels: [CHANNEL],
      action: 'send',
      frameType: 'message_updated',
      title: 'message_updated',
      summary: 'The author edited a message of a chat this socket joined (from any dialect): the message with `editedAt` and `changeSeq`.',
      payload: message,
      example: editedWireMessage,
    },
    {
      name: 'socketioMessageDeleted',
      channels: [CHANNEL],
      action: 'send',
      frameType: 'message_deleted',
      title: 'message_deleted',
      summary: 'A message of a chat this socket joined was deleted (by its author or a group owner/admin).',
      payload: object({ id: stringId('Message id'), chatId: stringId(), changeSeq: int(undefined, { minimum: 1 }) }),
      example: { id: String(deletedMessage.id), chatId: String(deletedMessage.chatId), changeSeq: deletedMessage.changeSeq },
    },
    {
      name: 'socketioConnectError',
      channels: [CHANNEL],
      action: 'send',
      frameType: 'connect_error',
      title: 'connect_error',
      summary: 'The connection was refused: no valid token.',
      payload: object({ message: constant('Unauthorized'), data: object({ code: constant('unauthorized') }) }),
      example: { message: 'Unauthorized', data: { code: 'unauthorized' } },
    },
  ],
};
