// What a spot's post and a spot's WebSocket upgrade both pass before anything is read: serial, stop, numbering, authentication.
import type http from 'node:http';
import { parseNumbering, parseSerial, type PostNumbering } from '../ingest/index.js';
import type { PostNumberingBound } from '../ingest/numbering-bound.js';
import type { HttpDrain } from './drain.js';

export type PostAdmission =
  /** stillValid: asked again while a connection stays open; the reason once its credentials no longer hold. */
  | { ok: true; numberingBound?: PostNumberingBound; stillValid?: () => string | null }
  | { ok: false; status: number; error: string; reason: string; headers?: Record<string, string> };

/** Spot authentication and the numbering bound (auth/spot-guard.ts). */
export type AdmitSpot = (req: http.IncomingMessage, serial: string, numbering: PostNumbering | null) => PostAdmission;

export interface Refusal {
  ok: false;
  status: number;
  error: string;
  reason: string;
  headers?: Record<string, string>;
}

export type SpotAdmission = { ok: true; serial: string; numbering: PostNumbering | null; numberingBound?: PostNumberingBound; stillValid?: () => string | null } | Refusal;

export interface SpotAdmissionOptions {
  drain?: HttpDrain;
  admit?: AdmitSpot;
  /** What is refused, for the reasons: "post" or "connection". */
  what: string;
  /** A transport's own check, after the numbering and before authentication (a post's Content-Encoding). */
  check?: (serial: string) => Refusal | null;
}

/** Seconds a spot refused during a stop waits before trying again (a restart takes a few). */
export const STOPPING_RETRY_AFTER_S = 5;

export function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The checks in the order a post has always met them; `serialText` is the path's serial, still escaped. */
export function admitSpot(req: http.IncomingMessage, serialText: string, o: SpotAdmissionOptions): SpotAdmission {
  const serial = parseSerial(serialText);
  if (!serial.ok) return { ok: false, status: 400, error: 'bad request', reason: serial.reason };
  if (o.drain?.stopping) {
    return {
      ok: false,
      status: 503,
      error: 'gateway stopping',
      reason: `spot ${serial.value}: the gateway is stopping; nothing of this ${o.what} was stored, send it again`,
      headers: { 'Retry-After': String(STOPPING_RETRY_AFTER_S) },
    };
  }
  const numbering = parseNumbering(header(req, 'x-spot-boot'), header(req, 'x-spot-seq'));
  if (!numbering.ok) return { ok: false, status: 400, error: 'bad request', reason: `spot ${serial.value}: ${numbering.reason}` };
  const own = o.check?.(serial.value);
  if (own) return own;
  const admitted = o.admit?.(req, serial.value, numbering.value) ?? { ok: true };
  if (!admitted.ok) return { ...admitted, reason: `spot ${serial.value}: ${admitted.reason}; nothing of this ${o.what} was read or stored` };
  return { ok: true, serial: serial.value, numbering: numbering.value, numberingBound: admitted.numberingBound, stillValid: admitted.stillValid };
}
