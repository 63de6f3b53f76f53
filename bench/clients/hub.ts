import type { Member } from '../topology.js';
import { wsUrl, type Driver, type Receiver } from './driver.js';
import { openJsonSocket } from './json-socket.js';

interface HubFrame {
  type?: string;
  data?: { id?: string; body?: string; seq?: number; error?: string };
}

function onHubFrame(raw: string, member: Member, receiver: Receiver): boolean {
  const frame = JSON.parse(raw) as HubFrame;
  if (frame.type === 'message' && frame.data && typeof frame.data.body === 'string') {
    receiver.deliver(member, frame.data.body, frame.data.id === undefined ? null : Number(frame.data.id), typeof frame.data.seq === 'number' ? frame.data.seq : null);
  } else if (frame.type === 'error') {
    receiver.error(member, String(frame.data?.error));
  }
  return false;
}

const hubEncoder = (chatId: string) => (text: string) => JSON.stringify({ type: 'message', data: { conversation_id: chatId, body: text } });

/** `hub`: one JSON socket per user at `/api/v1/ws` (Authorization header, the seed's carrier). */
export const hubDriver: Driver = {
  name: 'hub',
  inlineSeq: true,
  connect(baseUrl, member, group, receiver) {
    return openJsonSocket(
      { url: wsUrl(baseUrl, '/api/v1/ws'), headers: { authorization: `Bearer ${member.token}` }, encode: hubEncoder(group.chatId), onFrame: onHubFrame, readyOnOpen: true, what: `hub ${member.userId}` },
      member,
      receiver,
    );
  },
  connectIdle(baseUrl, member, receiver) {
    return this.connect(baseUrl, member, { index: -1, chatId: '0', members: [] }, receiver);
  },
};

/** The raw `ws` reference servers: the `hub` message flow with no auth; the room is named on the URL. */
function rawReferenceDriver(name: string): Driver {
  return {
    name,
    inlineSeq: true,
    connect(baseUrl, member, group, receiver) {
      const url = wsUrl(baseUrl, `/ws?user=${encodeURIComponent(member.userId)}&room=${encodeURIComponent(group.chatId)}`);
      return openJsonSocket({ url, encode: hubEncoder(group.chatId), onFrame: onHubFrame, readyOnOpen: true, what: `${name} ${member.userId}` }, member, receiver);
    },
    connectIdle(baseUrl, member, receiver) {
      const url = wsUrl(baseUrl, `/ws?user=${encodeURIComponent(member.userId)}`);
      return openJsonSocket({ url, encode: hubEncoder('0'), onFrame: onHubFrame, readyOnOpen: true, what: `${name} ${member.userId}` }, member, receiver);
    },
  };
}

/** `bench/reference-server.ts`. */
export const referenceDriver = rawReferenceDriver('reference');
/** `bench/group-commit-reference-server.ts`: the same wire. */
export const groupCommitDriver = rawReferenceDriver('group-commit');
