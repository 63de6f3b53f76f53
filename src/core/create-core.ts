import { ChatCore } from './chat-core.js';
import type { CoreContext, CorePorts, MessageMeta } from './core-context.js';
import { DeliveryTracker } from './delivery-tracker.js';
import { MembershipCache } from './membership-cache.js';
import { messageCreated } from './message-created.js';
import { MessageWriter } from './message-writer.js';
import { PresenceSettle } from './presence-settle.js';
import { TypingTimers } from './typing-timers.js';
import { UserDirectory } from './user-directory.js';
import { publishEvent } from './event-topics.js';

export type { CorePorts };

export function createCore(ports: CorePorts): ChatCore {
  const now = (): number => ports.clock.now();
  const members = new MembershipCache(ports.store, ports.broker, now, ports.log);
  const writer = new MessageWriter<MessageMeta>(ports.store, now, (committed) => {
    const committedAt = Date.now();
    for (const { result, meta } of committed) if (result.created) publishEvent(ports.broker, messageCreated(result.message, meta, committedAt));
  });
  const ctx: CoreContext = {
    ...ports,
    members,
    users: new UserDirectory(ports.store, now),
    writer,
    deliveries: new DeliveryTracker(ports.store, ports.broker, ports.settings.receiptFlushMs, ports.settings.receiptPersistMs, ports.log),
    typing: new TypingTimers(ports.settings.typingTtlMs),
    presenceSettle: new PresenceSettle(ports.settings.largeGroupPresenceSettleMs),
  };
  return new ChatCore(ctx);
}
