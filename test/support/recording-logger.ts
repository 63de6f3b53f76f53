import type { Logger } from '../../src/ports/logger.js';

/** A Logger that keeps every line as JSON text, to assert what was (and was not) logged. */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: object): Logger & { readonly lines: string[] } => {
    const write = (level: string) => (obj: object, msg?: string) => void lines.push(JSON.stringify({ level, ...bindings, ...obj, msg }));
    return { lines, info: write('info'), warn: write('warn'), error: write('error'), debug: write('debug'), child: (more) => make({ ...bindings, ...more }) };
  };
  return make({});
}
