// Why `spot-gateway smp ...` / `flash` stopped, and the exit code each reason has (docs/smp.md#exit-codes).
// An image refused before anything is sent keeps its `image verify` code (10..21).

export const FLASH_EXIT_CODES = {
  /** The serial port cannot be opened. */
  'port-unavailable': 30,
  /** No answer on the port after the configured tries. */
  'no-answer': 31,
  /** The device refused a command (its rc says why). */
  'device-error': 32,
  /** The device refused the upload. */
  'upload-refused': 33,
  /** After the upload the slot does not hold the image's hash. */
  'verify-failed': 34,
  /** The new image did not boot: the device runs the old one again (reverted). */
  'not-booted': 35,
  /** An answer that is not what the specification says. */
  'bad-response': 36,
} as const;

export type FlashFailureReason = keyof typeof FLASH_EXIT_CODES;

export interface FlashFailure {
  ok: false;
  reason: FlashFailureReason;
  detail: string;
}
