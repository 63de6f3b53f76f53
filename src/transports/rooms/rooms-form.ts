import type { FastifyRequest } from 'fastify';
import { badRequest, ChatError } from '../../domain/errors.js';

export interface RoomsForm {
  /** The parsed `json` field: always a plain object. */
  readonly json: Record<string, unknown>;
  /** The `photo` file's bytes; an empty file (a browser's untouched file input) counts as none. */
  readonly photo: Buffer | undefined;
}

/**
 * Reads the seed's multipart form: a `json` field (a text field, or a file part when a client
 * sets its content type with a Blob) and an optional `photo` file. Other parts are drained and
 * ignored. A file past the upload limit is a 413; any other malformed body is a 400.
 */
export async function readRoomsForm(request: FastifyRequest, maxUploadBytes: number): Promise<RoomsForm> {
  if (!request.isMultipart()) throw badRequest('Expected a multipart/form-data body with a `json` field');
  let json: unknown;
  let jsonSeen = false;
  let photo: Buffer | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'photo' && photo === undefined && bytes.length > 0) photo = bytes;
        else if (part.fieldname === 'json' && !jsonSeen) {
          jsonSeen = true;
          json = bytes.toString('utf8');
        }
      } else if (part.fieldname === 'json' && !jsonSeen) {
        if (part.valueTruncated) throw badRequest('The `json` field is too large');
        jsonSeen = true;
        json = part.value;
      }
    }
  } catch (err) {
    throw formError(err, maxUploadBytes);
  }
  if (!jsonSeen) throw badRequest('The `json` form field is required');
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch {
      throw badRequest('The `json` form field is not valid JSON');
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRequest('The `json` form field must be a JSON object');
  return { json: json as Record<string, unknown>, photo };
}

function formError(err: unknown, maxUploadBytes: number): ChatError {
  if (err instanceof ChatError) return err;
  const { statusCode, code } = (err ?? {}) as { statusCode?: unknown; code?: unknown };
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new ChatError('payload_too_large', `File is larger than ${maxUploadBytes} bytes`);
  if (statusCode === 413) return new ChatError('payload_too_large', 'Too many parts in the form');
  return badRequest('Malformed multipart body');
}
