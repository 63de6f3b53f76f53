import type { RawData } from 'ws';

/** One `ws` message as a single Buffer, whatever shape `ws` delivered it in. */
export function rawToBuffer(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}
