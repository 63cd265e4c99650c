// The codec contract: what every decoder yields and every encoder takes. Pure data.

export type Encoding = 'json' | 'pb';

/** An event as the wire carries it: [resource, action, object]. */
export interface SpotEventBody {
  resource: string;
  action: string;
  /** The event object: as the spot sent it (JSON) or converted to its JSON form (PB). */
  data: Record<string, unknown>;
}

/** A decoded event with where it came from. */
export interface SpotEvent extends SpotEventBody {
  /** JSON only: `data`'s text as the spot sent it, when that is exactly JSON.stringify(data) (compact-json.ts). */
  dataJson?: string;
  /** Byte offset of the message's first byte in the stream (for error messages). */
  offset: number;
  /** Index of this message in the stream, malformed messages included (numbering). */
  index: number;
  /** Numbering carried by the frame itself (PB Frame fields 30/31), if any. */
  boot?: number;
  seq?: number;
  /** PB only: the Frame bytes with both send-layer tricks undone (no length prefix). */
  pb?: Uint8Array;
}

/** A message the decoder could not accept. Decoding goes on after it. */
export interface RejectedMessage {
  offset: number;
  /** Index of its first message; malformed messages in a row are one reject holding indexes index..index+messages-1. */
  index: number;
  /** Malformed messages in a row this reject stands for (1 for a message between events). */
  messages: number;
  /** The first (at most) 1024 bytes of its messages, joined. */
  raw: Uint8Array;
  /** Bytes from its first message's first byte to its last message's last byte. */
  length: number;
  /** Why, in words a person can act on: "invalid JSON: ...", "over the size limit (65536 bytes)". */
  reason: string;
}

export type DecodedItem =
  | { kind: 'event'; event: SpotEvent }
  | { kind: 'rejected'; rejected: RejectedMessage };

/** Incremental decoder of one stream. Never throws for any input bytes. */
export interface StreamDecoder {
  /** Feed the next piece of the stream; returns the items completed by it, in order. */
  push(chunk: Uint8Array): DecodedItem[];
  /** The stream ended; returns what the end completes (a truncated message is rejected). */
  end(): DecodedItem[];
}

/** Stateful encoder of one stream (PB send-layer tricks are per stream). */
export interface StreamEncoder {
  encode(event: SpotEventBody & { boot?: number; seq?: number }): Uint8Array;
}
