import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** A served AsyncAPI document, as tests read it. */
export interface ServedDocument {
  readonly channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  readonly operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string }; messages: { $ref: string }[] }>;
  readonly components: { messages: Record<string, { name: string; payload: object; headers?: object; examples: { payload: unknown }[] }> };
}

export interface DescribedMessage {
  readonly name: string;
  readonly channel: string;
  readonly action: 'send' | 'receive';
  readonly frameType: string;
  readonly payload: ValidateFunction;
  readonly headers: ValidateFunction | null;
}

/**
 * Compiles every message of the served document with ajv, indexed by channel, direction and
 * frame type (the message's `name`), so a recorded frame finds the schema it must satisfy.
 */
export function compileDocument(doc: ServedDocument): DescribedMessage[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const out: DescribedMessage[] = [];
  for (const operation of Object.values(doc.operations)) {
    const channel = operation.channel.$ref.replace('#/channels/', '');
    for (const { $ref } of operation.messages) {
      const name = $ref.split('/').at(-1)!;
      const message = doc.components.messages[name]!;
      out.push({
        name,
        channel,
        action: operation.action,
        frameType: message.name,
        payload: ajv.compile(message.payload),
        headers: message.headers ? ajv.compile(message.headers) : null,
      });
    }
  }
  return out;
}

export function describedOn(messages: readonly DescribedMessage[], channel: string, action: 'send' | 'receive', frameType: string): DescribedMessage | undefined {
  return messages.find((m) => m.channel === channel && m.action === action && m.frameType === frameType);
}
