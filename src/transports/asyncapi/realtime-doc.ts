/**
 * The model every dialect describes its realtime half in. `asyncapi-document.ts` turns it into
 * one AsyncAPI 3.0 document; tests validate recorded real frames against it. A new frame type
 * of a dialect is one more `WireMessageDoc` in that dialect's list (`test/api/asyncapi/` fails
 * until it is there, and until `recorded-frames.test.ts` has seen it on the wire).
 */

/** A JSON Schema (draft-07 subset, which AsyncAPI's default schema format is a superset of). */
export type JsonSchema = { readonly [key: string]: unknown };

/** A close code a connection may end with after it was accepted (or instead of being accepted). */
export interface CloseCodeDoc {
  readonly code: number;
  readonly reason: string;
  readonly when: string;
}

export interface ChannelDoc {
  /** Key under `channels` (unique in the document). */
  readonly key: string;
  /** The path (or STOMP destination, or Socket.IO namespace) with `{param}` placeholders. */
  readonly address: string;
  readonly title: string;
  readonly description: string;
  /** Key under `servers`. */
  readonly server: 'ws' | 'stomp' | 'socketio';
  readonly parameters?: Readonly<Record<string, string>>;
  readonly closeCodes?: readonly CloseCodeDoc[];
  /** WebSocket binding: the upgrade's query string, when it takes more than the token. */
  readonly query?: JsonSchema;
}

export interface WireMessageDoc {
  /** Key under `components/messages` (unique in the document). */
  readonly name: string;
  /** Keys of the channels it travels on (the same frame on several sockets is one message). */
  readonly channels: readonly string[];
  /** From the server's point of view: `send` = server → client, `receive` = client → server. */
  readonly action: 'send' | 'receive';
  /**
   * What tells this frame apart on its channel: the JSON `type` (hub, rooms, channels, stomp
   * envelopes), the STOMP command for protocol frames, the event name for Socket.IO.
   */
  readonly frameType: string;
  readonly title: string;
  readonly summary: string;
  readonly description?: string;
  readonly payload: JsonSchema;
  readonly headers?: JsonSchema;
  /** `application/json` unless said otherwise. */
  readonly contentType?: string;
  /** A payload produced by the dialect's own encoder, so the example is what the server sends. */
  readonly example: unknown;
  /** Further examples (an error answer, the other state of a flag …). */
  readonly moreExamples?: readonly unknown[];
  /** Name of the message that answers this one (a Socket.IO acknowledgement, a STOMP HISTORY). */
  readonly reply?: string;
}

export interface DialectDoc {
  readonly name: 'hub' | 'rooms' | 'channels' | 'stomp' | 'socketio';
  readonly title: string;
  /** Markdown: what this dialect is, its auth carriers, where the prose docs are. */
  readonly description: string;
  readonly channels: readonly ChannelDoc[];
  readonly messages: readonly WireMessageDoc[];
}
