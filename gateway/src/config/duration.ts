// Durations in the configuration and on the command line: `24h`, `30m`, `7d`, `45s`, `0`, or plain seconds.

export type ParsedDuration = { ok: true; ms: number } | { ok: false; reason: string };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/;

/** What a duration may look like, for error messages. */
export const DURATION_FORMS = 'a number of seconds, or a number followed by s, m, h or d (e.g. 90, 30m, 24h, 7d; 0 = none)';

/** Milliseconds of a duration given as text (`24h`, `90`) or as a number of seconds. */
export function parseDuration(value: string | number): ParsedDuration {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? { ok: true, ms: Math.round(value * 1000) } : { ok: false, reason: `${value} is not ${DURATION_FORMS}` };
  }
  const m = DURATION.exec(value.trim());
  if (!m) return { ok: false, reason: `${JSON.stringify(value.slice(0, 40))} is not ${DURATION_FORMS}` };
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] || 's']!);
  if (!Number.isSafeInteger(ms)) return { ok: false, reason: `${JSON.stringify(value.slice(0, 40))} is too long` };
  return { ok: true, ms };
}
