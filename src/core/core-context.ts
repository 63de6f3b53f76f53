import type { SenderProfile } from '../domain/events.js';
import type { ChatType } from '../domain/chat.js';
import type { TokenService } from '../identity/token-service.js';
import type { Broker } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { FileStore } from '../ports/file-store.js';
import type { Logger } from '../ports/logger.js';
import type { PresenceStore } from '../ports/presence-store.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { Store } from '../ports/store.js';
import type { CoreSettings } from './core-settings.js';
import type { DeliveryTracker } from './delivery-tracker.js';
import type { MembershipCache } from './membership-cache.js';
import type { MessageWriter } from './message-writer.js';
import type { PresenceSettle } from './presence-settle.js';
import type { TypingTimers } from './typing-timers.js';
import type { UserDirectory } from './user-directory.js';

/** What a message needs for its event, gathered before the write so the commit hook is synchronous. */
export interface MessageMeta {
  readonly chatType: ChatType;
  readonly sender: SenderProfile;
}

/** What the composition root hands the core: the ports and the settings. */
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

/** Everything the core's functions work with: the ports plus the core's own caches and writers. */
export interface CoreContext extends CorePorts {
  readonly members: MembershipCache;
  readonly users: UserDirectory;
  readonly writer: MessageWriter<MessageMeta>;
  readonly deliveries: DeliveryTracker;
  readonly typing: TypingTimers;
  /** Presence of large groups' members, announced after a settle time. */
  readonly presenceSettle: PresenceSettle;
}
