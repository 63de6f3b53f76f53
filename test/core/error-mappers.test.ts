import { readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../support/source-files.js';
import { ChatError, ErrorCodes, ErrorReasons, type ErrorReason } from '../../src/domain/errors.js';

const TRANSPORTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/transports');

/** Issue 17: errors are data, and each dialect reads them in one mapper file. */
describe('error mappers', () => {
  it('inspects core errors only in one <dialect>-errors.ts mapper per transport folder', () => {
    const inspecting = sourceFiles(TRANSPORTS).filter((file) => /\bisChatError\(|\berr\.(code|reason)\s*[!=]==/.test(readFileSync(file, 'utf8')));
    const outside = inspecting.filter((file) => !basename(file).endsWith('-errors.ts')).map((file) => relative(TRANSPORTS, file));
    expect(outside).toEqual([]);
    const perFolder = new Map<string, number>();
    for (const file of inspecting) perFolder.set(dirname(relative(TRANSPORTS, file)), (perFolder.get(dirname(relative(TRANSPORTS, file))) ?? 0) + 1);
    for (const [folder, count] of perFolder) expect(count, folder).toBe(1);
  });

  it('gives every reason a known code, a status and a default message', () => {
    for (const reason of Object.keys(ErrorReasons) as ErrorReason[]) {
      const err = new ChatError(reason);
      expect(err.code).toBe(ErrorReasons[reason].code);
      expect(err.status).toBe(ErrorCodes[err.code].status);
      expect(err.message.length).toBeGreaterThan(0);
      expect(err.reason).toBe(reason);
    }
    // Every code is a reason of its own: the generic case.
    for (const code of Object.keys(ErrorCodes)) expect(ErrorReasons).toHaveProperty(code);
  });
});
