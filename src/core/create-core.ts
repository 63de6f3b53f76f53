import type { TokenService } from '../identity/token-service.js';
import type { Broker } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { FileStore } from '../ports/file-store.js';
import type { Logger } from '../ports/logger.js';
import type { PresenceStore } from '../ports/presence-store.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { Store } from '../ports/store.js';
import { ChatCore } from './chat-core.js';
import type { CoreContext, MessageMeta } from './core-context.js';
import type { CoreSettings } from './core-settings.js';
import { DeliveryTracker } from './delivery-tracker.js';
import { MembershipCache } from './membership-cache.js';
import { MessageWriter } from './message-writer.js';
import { TypingTimers } from './typing-timers.js';
import { UserDirectory } from './user-directory.js';

export interface CorePorts {
  readonly store: Store;
  readonly broker: Broker;
  readonly presence: PresenceStore;
  readonly limiter: RateLimiter;
  readonly files: FileStore;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly settings: CoreSettings;
  readonly log: Logger;
}

export function createCore(ports: CorePorts): ChatCore {
  const now = (): number => ports.clock.now();
  const members = new MembershipCache(ports.store, now);
  const writer = new MessageWriter<MessageMeta>(ports.store, now, (committed) => {
    const committedAt = Date.now();
    for (const { result, meta } of committed) {
      if (!result.created) continue;
      ports.broker.publish({
        type: 'message.created',
        chatId: result.message.chatId,
        chatType: meta.chatType,
        memberIds: meta.memberIds,
        message: result.message,
        sender: meta.sender,
        committedAt,
      });
    }
  });
  const ctx: CoreContext = {
    ...ports,
    members,
    users: new UserDirectory(ports.store, now),
    writer,
    deliveries: new DeliveryTracker(ports.store, ports.broker, members, ports.settings.receiptFlushMs, ports.log),
    typing: new TypingTimers(ports.settings.typingTtlMs),
  };
  return new ChatCore(ctx);
}
