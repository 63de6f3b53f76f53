import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/storage/postgres/postgres-errors.js';

const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('which PostgreSQL failures are an outage', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['connection reset', withCode('ECONNRESET')],
    ['admin shutdown (pg_ctl stop)', withCode('57P01', 'terminating connection due to administrator command')],
    ['starting up', withCode('57P03', 'the database system is starting up')],
    ['connection failure class 08', withCode('08006')],
    ['too many connections', withCode('53300')],
    ['a lost socket (node-postgres, no code)', new Error('Connection terminated unexpectedly')],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['every address refused', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), { message: '' })],
  ])('%s is', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['an undefined table', withCode('42P01')],
    ['NUL in text', withCode('22021')],
    ['a plain bug', new TypeError('undefined is not a function')],
    ['not an error', 'nope'],
    ['an aggregate of other failures', new AggregateError([withCode('ECONNREFUSED'), withCode('23505')])],
  ])('%s is not', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
