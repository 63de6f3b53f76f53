import type { Member } from '../topology.js';
import { wsUrl, type Driver, type Receiver } from './driver.js';
import { openJsonSocket } from './json-socket.js';

interface RoomsFrame {
  type?: string;
  id?: number;
  text?: string;
  error?: string;
}

function onFrame(raw: string, member: Member, receiver: Receiver): boolean {
  const frame = JSON.parse(raw) as RoomsFrame;
  switch (frame.type) {
    case 'message':
      if (typeof frame.text === 'string') receiver.deliver(member, frame.text, frame.id ?? null, null);
      return false;
    case 'history':
      return true;
    case 'error':
      receiver.error(member, String(frame.error));
      return false;
    default:
      return false;
  }
}

/** `rooms`: one socket per user per group at `/api/v1/group/{id}?token=`; ready on its `history`. */
export const roomsDriver: Driver = {
  name: 'rooms',
  inlineSeq: false,
  connect(baseUrl, member, group, receiver) {
    return openJsonSocket(
      {
        url: wsUrl(baseUrl, `/api/v1/group/${group.chatId}?limit=1&token=${encodeURIComponent(member.token)}`),
        encode: (text) => JSON.stringify({ type: 'message', text }),
        onFrame,
        readyOnOpen: false,
        what: `rooms ${member.userId}`,
      },
      member,
      receiver,
    );
  },
};
