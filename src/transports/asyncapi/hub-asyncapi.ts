import { CLIENT_EVENT_TYPES } from '../hub/hub-client-frames.js';
import { chatChangeFrame, encodeFrame, messageDeletedData, messageUpdatedData, presenceData, socketMessage } from '../hub/hub-wire.js';
import { arrayOf, bool, clientMsgId, constant, int, nullable, object, oneOfValues, openObject, str, stringId } from './json-schema.js';
import type { DialectDoc, JsonSchema, WireMessageDoc } from './realtime-doc.js';
import { deletedMessage, editedMessage, messageCreated, parsed, presenceChanged, sampleChat } from './samples.js';
import { transportCloseCodes } from './transport-close-codes.js';

const CHANNEL = 'hub';
const offline = presenceChanged(false);

/** Every `hub` frame, both ways: `{type, data}`. */
const frame = (type: string, data: JsonSchema): JsonSchema => object({ type: constant(type), data });

/** A conversation id from a client: a decimal string or a positive integer. */
const conversationIdIn: JsonSchema = { oneOf: [stringId(), int(undefined, { minimum: 1 })], description: 'A positive integer, as a string (the wire form) or a number' };

const socketMessageSchema = object(
  {
    id: stringId('Message id'),
    conversation_id: stringId(),
    sender_id: str('The sender’s user id (the token’s `sub`)'),
    body: str(),
    created_at: int('Unix seconds'),
    seq: int('1, 2, 3 … within the conversation, gapless: dedupe by `id`, catch up by `seq`', { minimum: 1 }),
  },
  { client_msg_id: clientMsgId() },
);

/** Chat and membership changes (an addition to the seed): who made it, and the chat as it is now. */
const change = { conversation_id: stringId(), actor_id: str('Who made the change (equal to the removed user: it left)') };
const chatFields = {
  ...change,
  type: oneOfValues(['private', 'group']),
  name: nullable(str('The group’s name; null for a private chat')),
  description: nullable(str()),
  avatar_url: nullable(str()),
  updated_at: int('Unix seconds'),
};
const userIds = (description: string): JsonSchema => arrayOf(str(), description);

const send = (m: Omit<WireMessageDoc, 'channels' | 'action'>): WireMessageDoc => ({ ...m, channels: [CHANNEL], action: 'send' });
const receive = (m: Omit<WireMessageDoc, 'channels' | 'action'>): WireMessageDoc => ({ ...m, channels: [CHANNEL], action: 'receive' });

const clientData: Record<(typeof CLIENT_EVENT_TYPES)[number], { summary: string; data: JsonSchema; example: unknown }> = {
  message: {
    summary: 'Send a message. Every socket of every member gets the `message` event, the sender’s own included.',
    data: openObject({ conversation_id: conversationIdIn, body: str('1..MAX_MESSAGE_LENGTH code points, not only whitespace') }, { client_msg_id: nullable(clientMsgId('Makes a retry idempotent: the retrying socket alone gets the original `message` again')) }),
    example: { conversation_id: '7', body: 'hello', client_msg_id: 'c-1f3a' },
  },
  typing: {
    summary: 'Typing on / off. The other members get `typing`; a `true` expires after 6 s without a refresh.',
    data: openObject({ conversation_id: conversationIdIn, is_typing: bool() }),
    example: { conversation_id: '7', is_typing: true },
  },
  read: {
    summary: 'Move the read cursor to the newest message; every member’s sockets get `read`.',
    data: openObject({ conversation_id: conversationIdIn }),
    example: { conversation_id: '7' },
  },
};

export const hubDoc: DialectDoc = {
  name: 'hub',
  title: 'hub',
  description: 'One JSON WebSocket per device carrying every conversation of the user (docs/dialects/hub.md).',
  channels: [
    {
      key: CHANNEL,
      address: '/api/v1/ws',
      title: 'hub: the user’s socket',
      server: 'ws',
      description: [
        'One socket per device; every frame both ways is `{"type", "data"}`.',
        'Auth: `Authorization: Bearer <jwt>` on the upgrade, or `?token=` / `?access_token=`. Without a valid token the upgrade is answered `401 {"error"}` and no WebSocket is made.',
        'Frames of one socket are processed in order; at most 64 may wait, past that each extra frame gets an `error`. A bad frame gets an `error` event and the socket stays open.',
      ].join('\n\n'),
      closeCodes: transportCloseCodes,
    },
  ],
  messages: [
    send({
      name: 'hubMessage',
      frameType: 'message',
      title: 'message',
      summary: 'A new message in one of the user’s conversations (from any dialect), the user’s own included.',
      payload: frame('message', socketMessageSchema),
      example: parsed(encodeFrame('message', socketMessage(messageCreated().message))),
    }),
    send({
      name: 'hubMessageUpdated',
      frameType: 'message_updated',
      title: 'message_updated',
      summary: 'The author edited a message of one of the user’s conversations (from any dialect), to every socket of every member.',
      payload: frame(
        'message_updated',
        object({ conversation_id: stringId(), id: stringId('Message id'), body: str(), edited_at: int('Unix seconds'), change_seq: int('The conversation’s change cursor: catch up with GET …/changes?after=', { minimum: 1 }) }),
      ),
      example: parsed(encodeFrame('message_updated', messageUpdatedData(editedMessage))),
    }),
    send({
      name: 'hubMessageDeleted',
      frameType: 'message_deleted',
      title: 'message_deleted',
      summary: 'A message was deleted (by its author or a group owner/admin); history keeps it with `body: ""`.',
      payload: frame('message_deleted', object({ conversation_id: stringId(), id: stringId('Message id'), change_seq: int(undefined, { minimum: 1 }) })),
      example: parsed(encodeFrame('message_deleted', messageDeletedData(deletedMessage))),
    }),
    send({
      name: 'hubTyping',
      frameType: 'typing',
      title: 'typing',
      summary: 'Another member started or stopped typing (never about the user itself).',
      payload: frame('typing', object({ conversation_id: stringId(), user_id: str(), is_typing: bool() })),
      example: parsed(encodeFrame('typing', { conversation_id: '7', user_id: '3', is_typing: true })),
    }),
    send({
      name: 'hubPresence',
      frameType: 'presence',
      title: 'presence',
      summary: 'A user sharing a conversation came online (first connection, any dialect) or went offline (last one closed).',
      payload: frame('presence', object({ user_id: str(), online: bool(), last_seen: nullable(int('Unix seconds; null while online')) })),
      example: parsed(encodeFrame('presence', presenceData(offline.userId, offline.online, offline.lastSeen))),
    }),
    send({
      name: 'hubRead',
      frameType: 'read',
      title: 'read (receipt)',
      summary: 'A member moved its read cursor: every message with `seq` ≤ `read_seq` is read by `user_id`. The reader’s own sockets get it too.',
      payload: frame('read', object({ conversation_id: stringId(), user_id: str(), read_seq: int(undefined, { minimum: 0 }) })),
      example: parsed(encodeFrame('read', { conversation_id: '7', user_id: '3', read_seq: 5 })),
    }),
    send({
      name: 'hubConversationCreated',
      frameType: 'conversation_created',
      title: 'conversation_created',
      summary: 'A group was created with the user in it, or a private chat with the user was first opened.',
      payload: frame('conversation_created', object({ ...chatFields, member_ids: userIds('Every member') })),
      example: parsed(chatChangeFrame({ type: 'chat.created', chatId: 7, chat: sampleChat, memberIds: ['1', '3'], actorId: '1' })),
    }),
    send({
      name: 'hubConversationUpdated',
      frameType: 'conversation_updated',
      title: 'conversation_updated',
      summary: 'A group’s name, description or picture changed.',
      payload: frame('conversation_updated', object(chatFields)),
      example: parsed(chatChangeFrame({ type: 'chat.updated', chatId: 7, chat: { ...sampleChat, avatarUrl: '/uploads/chats/7.png' }, actorId: '1' })),
    }),
    send({
      name: 'hubConversationDeleted',
      frameType: 'conversation_deleted',
      title: 'conversation_deleted',
      summary: 'The owner deleted a group.',
      payload: frame('conversation_deleted', object(change)),
      example: parsed(chatChangeFrame({ type: 'chat.deleted', chatId: 7, actorId: '1' })),
    }),
    send({
      name: 'hubMembersAdded',
      frameType: 'members_added',
      title: 'members_added',
      summary: 'Members were added to a group (the added users get it too: their first sign of it).',
      payload: frame('members_added', object({ ...change, user_ids: userIds('The added users'), member_ids: userIds('Every member after the change') })),
      example: parsed(chatChangeFrame({ type: 'members.added', chatId: 7, chat: sampleChat, userIds: ['4'], memberIds: ['1', '3', '4'], actorId: '1' })),
    }),
    send({
      name: 'hubMembersRemoved',
      frameType: 'members_removed',
      title: 'members_removed',
      summary: 'Members were removed from a group, or left it; the removed users get it too, then nothing more about it.',
      payload: frame('members_removed', object({ ...change, user_ids: userIds('The removed users'), member_ids: userIds('Every member after the change') })),
      example: parsed(chatChangeFrame({ type: 'members.removed', chatId: 7, userIds: ['3'], memberIds: ['1', '4'], actorId: '1' })),
    }),
    send({
      name: 'hubError',
      frameType: 'error',
      title: 'error',
      summary: 'A frame was refused (bad JSON, unknown type, not a member, rate limit …); the socket stays open.',
      payload: frame('error', object({ error: str('Human-readable; see docs/dialects/hub.md for the list') })),
      example: parsed(encodeFrame('error', { error: 'You are not a member of this chat' })),
    }),
    ...CLIENT_EVENT_TYPES.map((type) =>
      receive({
        name: `hubClient${type[0]!.toUpperCase()}${type.slice(1)}`,
        frameType: type,
        title: type,
        summary: clientData[type].summary,
        payload: { ...frame(type, clientData[type].data), additionalProperties: true },
        example: { type, data: clientData[type].example },
      }),
    ),
  ],
};
