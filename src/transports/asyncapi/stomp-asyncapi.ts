import { CLOSE_HEARTBEAT_TIMEOUT, CLOSE_PROTOCOL_ERROR } from '../stomp/stomp-errors.js';
import { deliveredBodies, messageBody, messageDeletedBody, messageUpdatedBody, newChatBody, newMessageBody, presenceBody, typingBody, type EncodedBody } from '../stomp/stomp-events.js';
import { renderMessage } from '../stomp/stomp-render.js';
import { arrayOf, bool, clientMsgId, constant, int, isoTime, nullable, object, openObject, positiveId, str, stringId } from './json-schema.js';
import type { DialectDoc, JsonSchema, WireMessageDoc } from './realtime-doc.js';
import { messageCreated, messageDeleted, messageUpdated, messagesDelivered, presenceChanged, sampleMessage, typingChanged } from './samples.js';
import { transportCloseCodes } from './transport-close-codes.js';

const SESSION = 'stompSession';
const SEND_MESSAGE = 'stompSendMessage';
const TYPING = 'stompTyping';
const LOAD_HISTORY = 'stompLoadHistory';
const EDIT_MESSAGE = 'stompEditMessage';
const DELETE_MESSAGE = 'stompDeleteMessage';
const TOPIC_CHAT = 'stompTopicChat';
const NOTIFICATIONS = 'stompUserNotifications';
const HISTORY = 'stompUserHistory';
const ERRORS = 'stompUserErrors';

const body = (encoded: EncodedBody): unknown => JSON.parse(encoded.json);

/** The headers of a MESSAGE frame the server writes to a subscription. */
const messageHeaders = openObject({
  destination: str('The subscribed destination'),
  'content-type': constant('application/json'),
  subscription: str('The SUBSCRIBE frame’s id'),
  'message-id': str(),
  'content-length': str('Byte length of the body', { pattern: '^[0-9]+$' }),
});

/** The seed's MessageResponse, plus `seq` (and `clientMessageId` on live frames when the sender gave one). */
const messageSchema = (live: boolean): JsonSchema =>
  object(
    {
      id: stringId('Message id'),
      conversationId: stringId('The chat id'),
      senderId: str(),
      content: str(),
      createdAt: isoTime(),
      type: str('The message kind: TEXT unless the sender gave another'),
      replyToMessageId: nullable(positiveId()),
      seq: int('1, 2, 3 … within the chat, gapless', { minimum: 1 }),
      editedAt: nullable(isoTime()),
      deletedAt: nullable(isoTime('Set on a deleted message, whose content is ""')),
      changeSeq: int('The chat’s change cursor at this message’s latest edit/delete (0: never); catch up with GET /api/chats/{chatId}/changes?after=', { minimum: 0 }),
    },
    live ? { clientMessageId: clientMsgId() } : {},
  );

/** `/topic/chat/{chatId}` envelope: `{type, chatId, timestamp (Unix ms), payload}`. */
const envelope = (type: string, payload: JsonSchema): JsonSchema => object({ type: constant(type), chatId: positiveId(), timestamp: int('Unix milliseconds'), payload });

const userEvent = (type: string): JsonSchema => object({ type: constant(type), chatId: positiveId(), senderId: str(), preview: str(), timestamp: isoTime() });

const topic = (m: Omit<WireMessageDoc, 'channels' | 'action' | 'headers'>): WireMessageDoc => ({ ...m, channels: [TOPIC_CHAT], action: 'send', headers: messageHeaders });
const appSend = (channel: string, m: Omit<WireMessageDoc, 'channels' | 'action'>): WireMessageDoc => ({ ...m, channels: [channel], action: 'receive' });

const emptyBody: JsonSchema = { type: 'string', maxLength: 0, description: 'No body' };
const chatIdParameter = { chatId: 'The chat’s integer id; the user must be a member (else ERROR `Access denied`)' };

export const stompDoc: DialectDoc = {
  name: 'stomp',
  title: 'stomp',
  description: 'STOMP 1.2 (1.1, 1.0) over a plain WebSocket at `/ws-chat` and over SockJS under `/ws-chat/…`, as a Spring message broker speaks it (docs/dialects/stomp.md).',
  channels: [
    {
      key: SESSION,
      address: '/ws-chat',
      title: 'stomp: the STOMP session',
      server: 'stomp',
      description: [
        'Plain WebSocket at exactly `/ws-chat` (subprotocols `v12.stomp`, `v11.stomp`, `v10.stomp`); SockJS under `/ws-chat/` (`/ws-chat/info`, `/ws-chat/<server>/<session>/websocket|xhr|xhr_streaming|…`).',
        'Auth: the `CONNECT` frame’s `Authorization: Bearer <jwt>` (or `token`) header, else the handshake’s `Authorization` header, `?token=` or `?access_token=`. A missing or invalid token gets `ERROR message:Unauthorized`, then the close.',
        'Every frame with a `receipt` header gets a `RECEIPT` once processed. Any protocol error gets an `ERROR` frame and the connection closes (1002), as Spring does.',
      ].join('\n\n'),
      closeCodes: [
        { code: CLOSE_PROTOCOL_ERROR, reason: '<the ERROR message>', when: 'after any ERROR frame' },
        { code: CLOSE_HEARTBEAT_TIMEOUT, reason: 'heart-beat timeout', when: 'the client was silent for more than twice the negotiated heart-beat' },
        { code: 1000, reason: 'disconnect', when: 'after DISCONNECT (and its RECEIPT)' },
        ...transportCloseCodes,
      ],
    },
    { key: SEND_MESSAGE, address: '/app/chat/{chatId}/sendMessage', title: 'stomp: SEND a message', server: 'stomp', parameters: chatIdParameter, description: 'SEND destination: store a message; it comes back as `MESSAGE` on `/topic/chat/{chatId}`.' },
    { key: TYPING, address: '/app/chat/{chatId}/typing', title: 'stomp: SEND typing', server: 'stomp', parameters: chatIdParameter, description: 'SEND destination: typing on / off; the other members get `TYPING`.' },
    { key: LOAD_HISTORY, address: '/app/chat/{chatId}/loadHistory', title: 'stomp: SEND a history request', server: 'stomp', parameters: chatIdParameter, description: 'SEND destination: answered by `HISTORY` on `/user/queue/history`.' },
    { key: EDIT_MESSAGE, address: '/app/chat/{chatId}/editMessage', title: 'stomp: SEND an edit', server: 'stomp', parameters: chatIdParameter, description: 'SEND destination: edit your own message; every subscriber of the chat gets `MESSAGE_UPDATED`. A refusal is an ERROR frame (and the close).' },
    { key: DELETE_MESSAGE, address: '/app/chat/{chatId}/deleteMessage', title: 'stomp: SEND a delete', server: 'stomp', parameters: chatIdParameter, description: 'SEND destination: delete a message (the author, or a group owner/admin); every subscriber gets `MESSAGE_DELETED`.' },
    { key: TOPIC_CHAT, address: '/topic/chat/{chatId}', title: 'stomp: a chat’s topic', server: 'stomp', parameters: chatIdParameter, description: 'SUBSCRIBE (members only). A member removed from the chat loses its subscriptions at once, silently.' },
    { key: NOTIFICATIONS, address: '/user/queue/notifications', title: 'stomp: the user’s notifications', server: 'stomp', description: 'SUBSCRIBE: events about the connected user’s chats, to each of its sessions on this instance.' },
    { key: HISTORY, address: '/user/queue/history', title: 'stomp: the user’s history answers', server: 'stomp', description: 'SUBSCRIBE: `HISTORY` answers to `loadHistory`, to each of the user’s sessions on this instance.' },
    { key: ERRORS, address: '/user/queue/errors', title: 'stomp: the user’s error queue', server: 'stomp', description: 'SUBSCRIBE is accepted (Spring convention); nothing is ever sent there: errors are ERROR frames.' },
  ],
  messages: [
    {
      name: 'stompConnect',
      channels: [SESSION],
      action: 'receive',
      frameType: 'CONNECT',
      title: 'CONNECT / STOMP',
      summary: 'Opens the STOMP session; must come within HANDSHAKE_TIMEOUT_MS (10 s).',
      contentType: 'text/plain',
      headers: openObject({}, { 'accept-version': str('e.g. 1.2,1.1,1.0; none means 1.0'), host: str(), 'heart-beat': str('cx,cy in ms', { pattern: '^[0-9]+,[0-9]+$' }), Authorization: str('Bearer <jwt> (the prefix is optional)'), token: str('<jwt>') }),
      payload: emptyBody,
      example: '',
    },
    {
      name: 'stompSubscribe',
      channels: [SESSION],
      action: 'receive',
      frameType: 'SUBSCRIBE',
      title: 'SUBSCRIBE',
      summary: 'Subscribe to `/topic/chat/{chatId}` (members only), `/user/queue/notifications`, `/user/queue/history` or `/user/queue/errors`; anything else is ERROR `Unknown destination`. At most 1000 per connection.',
      contentType: 'text/plain',
      headers: openObject({ destination: str(), id: str('Unique per connection (STOMP 1.0: defaults to the destination)') }, { receipt: str(), ack: str('Accepted; subscriptions are auto-ack') }),
      payload: emptyBody,
      example: '',
    },
    {
      name: 'stompUnsubscribe',
      channels: [SESSION],
      action: 'receive',
      frameType: 'UNSUBSCRIBE',
      title: 'UNSUBSCRIBE',
      summary: 'Drop a subscription by its id.',
      contentType: 'text/plain',
      headers: openObject({ id: str() }, { receipt: str() }),
      payload: emptyBody,
      example: '',
    },
    {
      name: 'stompDisconnect',
      channels: [SESSION],
      action: 'receive',
      frameType: 'DISCONNECT',
      title: 'DISCONNECT',
      summary: 'End the session: answered by RECEIPT (when asked), then the close (1000). ACK, NACK, BEGIN, COMMIT and ABORT are accepted and ignored.',
      contentType: 'text/plain',
      headers: openObject({}, { receipt: str() }),
      payload: emptyBody,
      example: '',
    },
    {
      name: 'stompConnected',
      channels: [SESSION],
      action: 'send',
      frameType: 'CONNECTED',
      title: 'CONNECTED',
      summary: 'The session is open.',
      contentType: 'text/plain',
      headers: object({ version: { enum: ['1.2', '1.1', '1.0'] }, 'heart-beat': str('sx,sy in ms (server offer 10000,10000)'), server: constant('polychat/0.1.0'), session: str(), 'user-name': str('The user id') }),
      payload: emptyBody,
      example: '',
    },
    {
      name: 'stompReceipt',
      channels: [SESSION],
      action: 'send',
      frameType: 'RECEIPT',
      title: 'RECEIPT',
      summary: 'A frame with a `receipt` header was processed (a subscription is in place, a message stored).',
      contentType: 'text/plain',
      headers: object({ 'receipt-id': str() }),
      payload: emptyBody,
      example: '',
    },
    {
      name: 'stompError',
      channels: [SESSION],
      action: 'send',
      frameType: 'ERROR',
      title: 'ERROR',
      summary: 'A protocol error or a refused SEND / SUBSCRIBE (Unauthorized, Access denied, Unknown destination, Invalid JSON, Message text …); the connection then closes (1002).',
      contentType: 'text/plain',
      headers: object({ message: str('Short reason'), 'content-type': constant('text/plain') }, { 'receipt-id': str('When the failing frame had a `receipt`'), version: str(), 'content-length': str() }),
      payload: str('Details'),
      example: 'You are not a member of this chat',
    },
    appSend(SEND_MESSAGE, {
      name: 'stompClientSendMessage',
      frameType: 'sendMessage',
      title: 'sendMessage',
      summary: 'Send a message.',
      payload: openObject({ content: str('1..MAX_MESSAGE_LENGTH code points, not only whitespace') }, { type: nullable(str('Defaults to TEXT')), replyToMessageId: nullable({ oneOf: [positiveId(), stringId()] }), clientMessageId: nullable(clientMsgId('Makes a retry idempotent')) }),
      example: { content: 'Hello', type: 'TEXT', replyToMessageId: null, clientMessageId: 'c-1f3a' },
    }),
    appSend(TYPING, {
      name: 'stompClientTyping',
      frameType: 'typing',
      title: 'typing',
      summary: 'Typing on / off: `true` / `false` (or `{"typing": true}`); a `true` expires after 6 s.',
      payload: { oneOf: [bool(), openObject({ typing: bool() })] },
      example: true,
    }),
    appSend(LOAD_HISTORY, {
      name: 'stompClientLoadHistory',
      frameType: 'loadHistory',
      title: 'loadHistory',
      summary: 'Ask for a page of history (newest `limit` before `beforeMessageId`, or counted back by `offset`).',
      payload: openObject({}, { offset: nullable(int(undefined, { minimum: 0 })), limit: nullable(int('Default 50, capped at 200', { minimum: 0 })), beforeMessageId: nullable({ oneOf: [positiveId(), stringId()] }) }),
      example: { offset: 0, limit: 50, beforeMessageId: null },
      reply: 'stompHistory',
    }),
    topic({
      name: 'stompMessage',
      frameType: 'MESSAGE',
      title: 'MESSAGE',
      summary: 'A new message of the chat (from any dialect), the sender’s included.',
      payload: envelope('MESSAGE', messageSchema(true)),
      example: body(messageBody(messageCreated())),
    }),
    appSend(EDIT_MESSAGE, {
      name: 'stompClientEditMessage',
      frameType: 'editMessage',
      title: 'editMessage',
      summary: 'Edit your own message (the send’s text rules).',
      payload: openObject({ messageId: { oneOf: [positiveId(), stringId()] }, content: str('1..MAX_MESSAGE_LENGTH code points, not only whitespace') }),
      example: { messageId: 42, content: 'hello, edited' },
    }),
    appSend(DELETE_MESSAGE, {
      name: 'stompClientDeleteMessage',
      frameType: 'deleteMessage',
      title: 'deleteMessage',
      summary: 'Delete a message (the author, or a group owner/admin).',
      payload: openObject({ messageId: { oneOf: [positiveId(), stringId()] } }),
      example: { messageId: 42 },
    }),
    topic({
      name: 'stompMessageUpdated',
      frameType: 'MESSAGE_UPDATED',
      title: 'MESSAGE_UPDATED',
      summary: 'The author edited a message of the chat (from any dialect): the MessageResponse with `editedAt`.',
      payload: envelope('MESSAGE_UPDATED', messageSchema(false)),
      example: body(messageUpdatedBody(messageUpdated())),
    }),
    topic({
      name: 'stompMessageDeleted',
      frameType: 'MESSAGE_DELETED',
      title: 'MESSAGE_DELETED',
      summary: 'A message of the chat was deleted (by its author or a group owner/admin, from any dialect).',
      payload: envelope('MESSAGE_DELETED', object({ messageId: stringId(), conversationId: stringId(), changeSeq: int(undefined, { minimum: 1 }) })),
      example: body(messageDeletedBody(messageDeleted())),
    }),
    topic({
      name: 'stompTypingEvent',
      frameType: 'TYPING',
      title: 'TYPING',
      summary: 'Another member started or stopped typing.',
      payload: envelope('TYPING', object({ userId: str(), typing: bool() })),
      example: body(typingBody(typingChanged())),
    }),
    topic({
      name: 'stompUserOnline',
      frameType: 'USER_ONLINE',
      title: 'USER_ONLINE',
      summary: 'A member sharing this chat opened its first connection (any dialect).',
      payload: envelope('USER_ONLINE', object({ userId: str(), status: constant('ONLINE') })),
      example: body(presenceBody(presenceChanged(true), sampleMessage.chatId)),
    }),
    topic({
      name: 'stompUserOffline',
      frameType: 'USER_OFFLINE',
      title: 'USER_OFFLINE',
      summary: 'A member sharing this chat closed its last connection.',
      payload: envelope('USER_OFFLINE', object({ userId: str(), status: constant('OFFLINE') })),
      example: body(presenceBody(presenceChanged(false), sampleMessage.chatId)),
    }),
    topic({
      name: 'stompMessageDelivered',
      frameType: 'MESSAGE_DELIVERED',
      title: 'MESSAGE_DELIVERED',
      summary:
        'A message reached one of a recipient’s live connections or a history page (one frame per recipient and message). In a group of more than LARGE_GROUP_SIZE members (default 500) one frame per recipient per flush instead, a cursor: `upTo: true`, every message up to `messageId` (`seq`) was delivered to `userId`.',
      payload: envelope('MESSAGE_DELIVERED', object({ messageId: positiveId(), userId: str() }, { seq: int('Large groups: the cursor’s seq'), upTo: constant(true) })),
      example: body(deliveredBodies(messagesDelivered())[0]!),
    }),
    {
      name: 'stompNewMessage',
      channels: [NOTIFICATIONS],
      action: 'send',
      frameType: 'NEW_MESSAGE',
      title: 'NEW_MESSAGE',
      summary: 'A new message in one of the user’s chats, to every member but the sender; `preview` is its first 50 characters.',
      headers: messageHeaders,
      payload: userEvent('NEW_MESSAGE'),
      example: body(newMessageBody(messageCreated())),
    },
    {
      name: 'stompNewChat',
      channels: [NOTIFICATIONS],
      action: 'send',
      frameType: 'NEW_CHAT',
      title: 'NEW_CHAT',
      summary: 'The user was added to a chat (creation included) by someone else; `preview` is the chat’s name (a private chat: the creator’s).',
      headers: messageHeaders,
      payload: userEvent('NEW_CHAT'),
      example: body(newChatBody(sampleMessage.chatId, '3', 'Team')),
    },
    {
      name: 'stompHistory',
      channels: [HISTORY],
      action: 'send',
      frameType: 'HISTORY',
      title: 'HISTORY',
      summary: 'The answer to `loadHistory`, oldest first.',
      headers: messageHeaders,
      payload: envelope(
        'HISTORY',
        object({
          chatId: positiveId(),
          offset: int(undefined, { minimum: 0 }),
          limit: int(undefined, { minimum: 0 }),
          beforeMessageId: nullable(positiveId()),
          messages: arrayOf(messageSchema(false)),
        }),
      ),
      example: {
        type: 'HISTORY',
        chatId: sampleMessage.chatId,
        timestamp: sampleMessage.createdAt,
        payload: { chatId: sampleMessage.chatId, offset: 0, limit: 50, beforeMessageId: null, messages: [renderMessage(sampleMessage)] },
      },
    },
  ],
};
