import type { JsonSchema } from './realtime-doc.js';

/** Small builders so the dialect files read like the wire they describe. */

export const str = (description?: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...(description ? { description } : {}), ...extra });
export const int = (description?: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'integer', ...(description ? { description } : {}), ...extra });
export const bool = (description?: string): JsonSchema => ({ type: 'boolean', ...(description ? { description } : {}) });
export const constant = (value: string | number | boolean): JsonSchema => ({ const: value });
export const oneOfValues = (values: readonly (string | number)[], description?: string): JsonSchema => ({ enum: [...values], ...(description ? { description } : {}) });
export const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] });
export const arrayOf = (items: JsonSchema, description?: string): JsonSchema => ({ type: 'array', items, ...(description ? { description } : {}) });
export const isoTime = (description = 'ISO-8601 UTC with milliseconds'): JsonSchema => str(description, { format: 'date-time' });
export const positiveId = (description?: string): JsonSchema => int(description, { minimum: 1 });
/** A decimal id in a string, as the `hub`, `stomp` and `socketio` wires carry ids. */
export const stringId = (description?: string): JsonSchema => str(description, { pattern: '^[1-9][0-9]*$' });
/** SPEC: user ids are opaque strings, rendered as JSON numbers where a dialect says so when canonical integers. */
export const numberOrStringUserId = (description = 'A JSON number when the id is a canonical integer, else the opaque string'): JsonSchema => ({
  oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', not: { pattern: '^[1-9][0-9]{0,14}$' } }],
  description,
});
export const clientMsgId = (description = 'Echoed only when the sender gave one (idempotent send)'): JsonSchema => str(description, { minLength: 1, maxLength: 100 });

/**
 * An object: every property in `required` must be present, any other listed one may be, and
 * nothing else is allowed — so an undocumented field the server starts sending fails the tests.
 */
export function object(required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}, description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties: { ...required, ...optional },
    required: Object.keys(required),
    additionalProperties: false,
  };
}

/** An object that may carry more than it lists (client frames: extra fields are ignored). */
export function openObject(required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}, description?: string): JsonSchema {
  return { ...object(required, optional, description), additionalProperties: true };
}
