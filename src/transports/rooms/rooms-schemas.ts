/** Route schemas for the OpenAPI document (query values are strings: ajv does not coerce). */
export const tags = ['rooms'];

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', description: 'A positive integer' } },
  required: ['id'],
} as const;

export const userIdParams = {
  type: 'object',
  properties: { id: { type: 'string', description: 'A user id (a positive integer for built-in accounts)' } },
  required: ['id'],
} as const;

export const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'string', description: 'A non-negative integer' },
    offset: { type: 'string', description: 'A non-negative integer' },
  },
} as const;

const userRef = {
  type: 'object',
  properties: {
    id: { description: 'The user id (a number for built-in accounts, else a string)' },
    name: { description: 'Ignored: the server knows the name' },
  },
  required: ['id'],
} as const;

export const usersBody = {
  type: 'object',
  properties: { users: { type: 'array', items: userRef } },
  required: ['users'],
} as const;

/** Multipart routes: the body is read with `request.parts()`, so it is described, not validated. */
export const multipartConsumes = ['multipart/form-data'];
