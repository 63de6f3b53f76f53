import { changesFrame, connectionEstablishedFrame, errorFrame, messageDeletedFrame, messageFrame, messagesReadFrame, messageUpdatedFrame, typingFrame } from '../channels/channels-wire.js';
import { ChannelsClose } from '../channels/close-codes.js';
import { arrayOf, bool, clientMsgId, constant, int, isoTime, nullable, numberOrStringUserId, object, openObject, positiveId, str } from './json-schema.js';
import type { DialectDoc, WireMessageDoc } from './realtime-doc.js';
import { deletedMessage, editedMessage, messagesRead, parsed, sampleMessage, sampleSender, typingChanged } from './samples.js';
import { transportCloseCodes } from './transport-close-codes.js';

const CHANNEL = 'channelsChat';

const on = (m: Omit<WireMessageDoc, 'channels'>): WireMessageDoc => ({ ...m, channels: [CHANNEL] });

const username = str('The username; the user id when the user has none');

/** The seed's message model (`message` frames), plus `change_seq` where a change is announced or listed. */
const messageModel = (withChangeSeq: boolean) =>
  object(
    {
      id: positiveId('Message id'),
      text: str('"" once deleted'),
      sender: object({ id: numberOrStringUserId(), username, first_name: str('"" when unknown'), last_name: str('"" when unknown') }),
      timestamp: isoTime(),
      is_edited: bool(),
      is_deleted: bool(),
      ...(withChangeSeq ? { change_seq: int('The chat’s change cursor at this message’s latest edit/delete', { minimum: 0 }) } : {}),
    },
    { client_msg_id: clientMsgId() },
  );
const changeSeq = int('The chat’s change cursor: send it as `after` in `get_changes` after a reconnect', { minimum: 0 });

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
      name: 'channelsMessageUpdated',
      action: 'send',
      frameType: 'message_updated',
      title: 'message_updated',
      summary: 'The author edited a message (from any dialect): the message model as it is now, `is_edited: true`, to every connection of the chat.',
      payload: object({ type: constant('message_updated'), data: messageModel(true) }),
      example: parsed(messageUpdatedFrame(editedMessage, sampleSender)),
    }),
    on({
      name: 'channelsMessageDeleted',
      action: 'send',
      frameType: 'message_deleted',
      title: 'message_deleted',
      summary: 'A message was deleted (by its author or a group owner/admin, from any dialect); its text is erased.',
      payload: object({ type: constant('message_deleted'), data: object({ id: positiveId(), is_deleted: constant(true), change_seq: changeSeq }) }),
      example: parsed(messageDeletedFrame(deletedMessage)),
    }),
    on({
      name: 'channelsChanges',
      action: 'send',
      frameType: 'changes',
      title: 'changes',
      summary: 'The answer to `get_changes`: messages whose latest change is after the cursor, in change order, each in its current state; `cursor` is what to ask after next.',
      payload: object({ type: constant('changes'), data: arrayOf(messageModel(true)), cursor: changeSeq }),
      example: parsed(changesFrame([{ message: editedMessage, sender: sampleSender }], editedMessage.changeSeq)),
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
      name: 'channelsClientEditMessage',
      action: 'receive',
      frameType: 'edit_message',
      title: 'edit_message',
      summary: 'Edit your own message (the send’s text rules); everyone in the chat gets `message_updated`. Refusals are `error` frames; the socket stays open.',
      payload: openObject({ type: constant('edit_message'), message_id: positiveId(), text: str() }),
      example: { type: 'edit_message', message_id: 123, text: 'hello, edited' },
    }),
    on({
      name: 'channelsClientDeleteMessage',
      action: 'receive',
      frameType: 'delete_message',
      title: 'delete_message',
      summary: 'Delete a message (the author, or a group owner/admin); everyone in the chat gets `message_deleted`.',
      payload: openObject({ type: constant('delete_message'), message_id: positiveId() }),
      example: { type: 'delete_message', message_id: 123 },
    }),
    on({
      name: 'channelsClientGetChanges',
      action: 'receive',
      frameType: 'get_changes',
      title: 'get_changes',
      summary: 'Catch-up of edits and deletes after a change cursor (`after`, default 0; `limit` default 100, at most 200); answered by `changes`.',
      payload: openObject({ type: constant('get_changes') }, { after: int(undefined, { minimum: 0 }), limit: int(undefined, { minimum: 0 }) }),
      example: { type: 'get_changes', after: 0 },
      reply: 'channelsChanges',
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
