import type { DomainEvent } from '../domain/events.js';

const cache = new WeakMap<DomainEvent, Map<string, unknown>>();

/**
 * Serialize an event once per wire format, not once per recipient: the first session of a
 * dialect encodes, the others reuse the same string. Entries die with the event object.
 */
export function encodeOnce<T>(event: DomainEvent, key: string, encode: () => T): T {
  let forEvent = cache.get(event);
  if (!forEvent) {
    forEvent = new Map();
    cache.set(event, forEvent);
  }
  if (forEvent.has(key)) return forEvent.get(key) as T;
  const value = encode();
  forEvent.set(key, value);
  return value;
}
