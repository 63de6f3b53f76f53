import type { Member } from '../topology.js';
import { wsUrl, type Driver, type Receiver } from './driver.js';
import { openJsonSocket } from './json-socket.js';

interface ChannelsFrame {
  type?: string;
  data?: { id?: number; text?: string };
  message?: string;
}

function onFrame(raw: string, member: Member, receiver: Receiver): boolean {
  const frame = JSON.parse(raw) as ChannelsFrame;
  switch (frame.type) {
    case 'message':
      if (frame.data && typeof frame.data.text === 'string') receiver.deliver(member, frame.data.text, frame.data.id ?? null, null);
      return false;
    case 'connection_established':
      return true;
    case 'error':
      receiver.error(member, String(frame.message));
      return false;
    default:
      return false;
  }
}

/** `channels`: one socket per user per chat at `/ws/chat/{id}/?token=` (a browser's carrier). */
export const channelsDriver: Driver = {
  name: 'channels',
  inlineSeq: false,
  connect(baseUrl, member, group, receiver) {
    return openJsonSocket(
      {
        url: wsUrl(baseUrl, `/ws/chat/${group.chatId}/?token=${encodeURIComponent(member.token)}`),
        encode: (text) => JSON.stringify({ type: 'message', text }),
        onFrame,
        readyOnOpen: false,
        what: `channels ${member.userId}`,
      },
      member,
      receiver,
    );
  },
};
