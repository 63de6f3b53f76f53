import { channelsDriver } from './channels.js';
import type { Driver } from './driver.js';
import { groupCommitDriver, hubDriver, referenceDriver } from './hub.js';
import { roomsDriver } from './rooms.js';
import { naiveDriver, socketioDriver } from './socketio.js';
import { stompDriver } from './stomp.js';

export const drivers: Readonly<Record<string, Driver>> = {
  hub: hubDriver,
  channels: channelsDriver,
  rooms: roomsDriver,
  stomp: stompDriver,
  socketio: socketioDriver,
  reference: referenceDriver,
  naive: naiveDriver,
  'group-commit': groupCommitDriver,
};
