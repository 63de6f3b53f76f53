import type { RawData } from 'ws';
import { badRequest } from '../../domain/errors.js';
import { rawToBuffer } from '../shared/raw-data.js';

/** Close codes a `rooms` socket may get after it was accepted (before that: an HTTP status). */
export const CLOSE_REMOVED = 4403;
export const CLOSE_DELETED = 4404;
/** Frames a socket may have waiting for the core before new ones are refused with an error. */
export const MAX_QUEUED_FRAMES = 64;

/** A client frame as JSON: an object, else a 400 with the message the error frame carries. */
export function parseClientFrame(data: RawData, isBinary: boolean): Record<string, unknown> {
  if (isBinary) throw badRequest('Binary frames are not supported');
  const text = rawToBuffer(data).toString('utf8');
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON');
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw badRequest('A frame must be a JSON object');
  return frame as Record<string, unknown>;
}

export function unknownType(type: unknown): Error {
  if (type === undefined) return badRequest('Frame type is required');
  const shown = typeof type === 'string' ? type : JSON.stringify(type);
  return badRequest(`Unknown message type: ${shown.slice(0, 64)}`);
}
