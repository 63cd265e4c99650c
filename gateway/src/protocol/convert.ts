// Lossless JSON <-> PB conversion of single events: Frame bytes, or protobuf-es Frame messages.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FrameSchema, type Frame } from '../gen/spot_pb.js';
import { encodeFrame, type NumberedEvent } from './frame-writer.js';
import { failureReason, readFrame } from './frame-reader.js';
import type { SpotEventBody } from './types.js';

export { encodeFrame };

export type DecodedFrame = SpotEventBody & { boot?: number; seq?: number };
export type FrameDecoding = { ok: true; event: DecodedFrame } | { ok: false; reason: string };

/** Why a frame could not be read, in words for logs and the rejected-messages table. */
export function frameFailure(err: unknown): string {
  return failureReason(err);
}

/**
 * One Frame without prefix or tricks (an MQTT `to/<serial>/pb` or `from/<serial>/pb` payload)
 * -> the event in canonical JSON form. Never throws.
 */
export function decodeFrame(bytes: Uint8Array): FrameDecoding {
  try {
    return { ok: true, event: readFrame(bytes, 0, bytes.length) };
  } catch (err) {
    return { ok: false, reason: frameFailure(err) };
  }
}

/** The event as a protobuf-es Frame message (unknown keys in extra_json, unknown kinds generic). */
export function eventToFrame(event: NumberedEvent): Frame {
  return fromBinary(FrameSchema, encodeFrame(event));
}

/** A protobuf-es Frame message back to the event in canonical JSON form. */
export function frameToEvent(frame: Frame): FrameDecoding {
  return decodeFrame(toBinary(FrameSchema, frame));
}
