// Image upload with offset resume: the first request carries the image's length and SHA-256, which
// name the upload; a device that already holds part of that upload answers with its offset, and
// every request after goes on from the offset the device last reported (docs/smp.md#upload).
import { createHash } from 'node:crypto';
import type { SmpClient, SmpResult } from './client.js';
import { uploadChunk } from './commands.js';

/** Data bytes per request when the device does not report its buffer size. */
export const FALLBACK_CHUNK = 128;
/** Room kept in the device's buffer for the SMP header and the CBOR keys around the data. */
export const REQUEST_OVERHEAD = 96;
/** Answers in a row that do not move the offset before the upload is given up. */
const MAX_STALLS = 3;

export interface UploadProgress {
  /** The offset the device holds now. */
  off: number;
  total: number;
  /** Bytes this upload has sent (not counting what the device held already). */
  sent: number;
}

export interface UploadOptions {
  /** The device's SMP buffer (mcumgr params buf_size); null or absent: small chunks. */
  bufSize?: number | null;
  /** Overrides the chunk size computed from bufSize. */
  chunkSize?: number;
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadOutcome {
  /** Where the device resumed the upload (0: it started afresh). */
  resumedFrom: number;
  requests: number;
  sha: Buffer;
}

export function chunkSizeFor(bufSize: number | null | undefined): number {
  if (!bufSize) return FALLBACK_CHUNK;
  return Math.max(16, Math.floor((bufSize - REQUEST_OVERHEAD) / 4) * 4);
}

export async function uploadImage(client: SmpClient, image: Uint8Array, options: UploadOptions = {}): Promise<SmpResult<UploadOutcome>> {
  const total = image.length;
  const chunk = options.chunkSize ?? chunkSizeFor(options.bufSize);
  const sha = createHash('sha256').update(image).digest();
  let off = 0;
  let sent = 0;
  let requests = 0;
  let resumedFrom = 0;
  let stalls = 0;
  do {
    const data = image.subarray(off, off + chunk);
    const first = requests === 0;
    const answer = await uploadChunk(client, first ? { off: 0, len: total, sha, data } : { off, data });
    requests++;
    if (!answer.ok) return answer;
    const next = answer.value.off;
    if (next > total) return { ok: false, reason: 'bad-response', detail: `the device reports offset ${next} beyond the image's ${total} bytes` };
    if (first && next !== data.length) resumedFrom = next;
    else sent += data.length;
    stalls = !first && next <= off ? stalls + 1 : 0;
    if (stalls >= MAX_STALLS) return { ok: false, reason: 'bad-response', detail: `the device keeps answering offset ${next} and takes no data at ${off}` };
    off = next;
    options.onProgress?.({ off, total, sent });
  } while (off < total);
  return { ok: true, value: { resumedFrom, requests, sha } };
}
