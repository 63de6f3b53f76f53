import type { CoreContext } from '../core-context.js';
import { publishEvent } from '../event-topics.js';
import { inLargeGroup } from '../large-group.js';

/**
 * A live connection of any dialect opened. The first one of a user (across instances)
 * announces `online` on the topics of its chats (see `event-topics.ts`).
 */
export async function connectionOpened(ctx: CoreContext, userId: string, connectionId: string): Promise<void> {
  const { becameOnline } = await ctx.presence.connect(userId, connectionId, ctx.clock.now());
  if (becameOnline) await announceSettled(ctx, userId, true, null);
}

/** The last connection of a user closed: `offline` with `last_seen`. */
export async function connectionClosed(ctx: CoreContext, userId: string, connectionId: string): Promise<void> {
  const { becameOffline, lastSeen } = await ctx.presence.disconnect(userId, connectionId, ctx.clock.now());
  if (becameOffline) await announceSettled(ctx, userId, false, lastSeen);
}

/**
 * A member of a large group: the change waits `largeGroupPresenceSettleMs` and a reconnect
 * within it announces nothing (`PresenceSettle`); everyone else's goes out at once.
 */
async function announceSettled(ctx: CoreContext, userId: string, online: boolean, lastSeen: number | null): Promise<void> {
  if (ctx.settings.largeGroupPresenceSettleMs > 0 && (await inLargeGroup(ctx, userId))) {
    ctx.presenceSettle.schedule(userId, online, lastSeen, (o, seen) => announce(ctx, userId, o, seen));
    return;
  }
  await announce(ctx, userId, online, lastSeen);
}

/** Also used by the Redis presence store when it finds a crashed instance's users. */
export async function announce(ctx: CoreContext, userId: string, online: boolean, lastSeen: number | null): Promise<void> {
  // One query, and one publish per chat of the user: no work per contact, online or not.
  const chatIds = await ctx.store.chatIdsOf(userId);
  publishEvent(ctx.broker, { type: 'presence', userId, online, lastSeen, chatIds });
}
