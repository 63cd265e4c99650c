// Why an image is refused, and the exit code each reason has on the command line (docs/firmware-image.md).

export const IMAGE_FAILURE_EXIT_CODES = {
  'bad-magic': 10,
  truncated: 11,
  'bad-header': 12,
  'tlv-damaged': 13,
  'unprotected-tlv': 14,
  'no-hash': 15,
  'hash-mismatch': 16,
  unsigned: 17,
  'unknown-key': 18,
  'bad-signature': 19,
  'wrong-target': 20,
  'no-target': 21,
} as const;

export type ImageFailureReason = keyof typeof IMAGE_FAILURE_EXIT_CODES;

/** A refused image: which check failed, and in words what is wrong with it. */
export interface ImageFailure {
  ok: false;
  reason: ImageFailureReason;
  detail: string;
}

export function imageFailure(reason: ImageFailureReason, detail: string): ImageFailure {
  return { ok: false, reason, detail };
}

export function exitCodeOf(reason: ImageFailureReason): number {
  return IMAGE_FAILURE_EXIT_CODES[reason];
}
