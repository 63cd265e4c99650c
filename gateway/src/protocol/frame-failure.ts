// Why the frame being read is malformed, once a reader returned null, false or undefined for it.
// Failures are returned, not thrown: a throw costs ~1-4 us in V8, and a stream of garbage frames
// fails one every few bytes. Values that cannot be read still throw (ValueError, in wire.ts).

let reason = '';

/** Records why, for a reader that returns null. */
export function fail(why: string): null {
  reason = why;
  return null;
}

/** Records why, for a reader that returns false. */
export function failed(why: string): false {
  reason = why;
  return false;
}

/** Why readFrameInto last returned false. */
export function failure(): string {
  return reason;
}
