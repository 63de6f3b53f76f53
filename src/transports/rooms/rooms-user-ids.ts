import { parseUserId } from '../../core/paging.js';
import { badRequest } from '../../domain/errors.js';

/**
 * A user id from a `rooms` path or body. Ids are opaque strings (external identity providers
 * issue any `sub`), so anything printable goes; but a numeric-looking id that is not a
 * canonical positive integer (`0`, `-1`, `01`, `1.5`) is a malformed id, not an unknown one.
 */
export function parseRoomsUserId(raw: unknown, name = 'user id'): string {
  const id = parseUserId(raw, name);
  if (/[\s\u0000-\u001f\u007f]/.test(id)) throw badRequest(`${name} is not valid`);
  if (/^[-+]?[\d.]+$/.test(id) && !/^[1-9]\d{0,14}$/.test(id)) throw badRequest(`${name} must be a positive integer`);
  return id;
}

/** The seed's `users: [{id, name}]` list (bare ids are accepted too); `name` is ignored. */
export function parseUserList(raw: unknown, { required }: { required: boolean }): string[] {
  if (raw === undefined || raw === null) {
    if (required) throw badRequest('users is required');
    return [];
  }
  if (!Array.isArray(raw)) throw badRequest('users must be an array of {id, name}');
  return raw.map((entry, i) => {
    const id = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as { id?: unknown }).id : entry;
    if (id === undefined) throw badRequest(`users[${i}].id is required`);
    return parseRoomsUserId(id, `users[${i}].id`);
  });
}
