import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../support/source-files.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * The import direction from docs/architecture.md: domain <- ports <- identity <- core <-
 * realtime <- transports <- app. Storage, bus and files implement ports and are wired in by app alone;
 * a transport never imports them. A new import across the line fails this test.
 */
const ALLOWED: Record<string, readonly string[]> = {
  domain: ['domain'],
  ports: ['domain', 'ports'],
  identity: ['domain', 'ports', 'identity'],
  core: ['domain', 'ports', 'identity', 'core'],
  realtime: ['domain', 'ports', 'core', 'realtime'],
  transports: ['domain', 'ports', 'core', 'realtime', 'transports'],
  storage: ['domain', 'ports', 'storage'],
  bus: ['domain', 'ports', 'bus'],
  files: ['domain', 'ports', 'files'],
  app: ['*'],
};


describe('layering', () => {
  it('every import in src/ follows the allowed direction', () => {
    const violations: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const layer = relative(SRC, file).split('/')[0] ?? '';
      const allowed = ALLOWED[layer];
      if (!allowed) {
        violations.push(`${relative(SRC, file)}: unknown layer '${layer}'`);
        continue;
      }
      if (allowed.includes('*')) continue;
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
        const spec = match[1] ?? match[2] ?? '';
        const target = relative(SRC, resolve(dirname(file), spec));
        const targetLayer = target.split('/')[0] ?? '';
        if (!allowed.includes(targetLayer) && !allowed.includes(target)) violations.push(`${relative(SRC, file)} imports ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
