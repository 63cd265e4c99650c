// Timestamps: ISO-8601 UTC with milliseconds in JSON, unix milliseconds on the wire.

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the range with a plain ISO form. */
export const MIN_ISO_MS = -62167219200000;
export const MAX_ISO_MS = 253402300799999;
const ISO_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:\d{2})$/;

// "SS." and "mmmZ": the rest of the text after the minute is two table strings, so one
// timestamp costs two string concatenations (every decoded PB event has one or two).
const SECOND_DOT: string[] = [];
const MILLI_Z: string[] = [];
for (let i = 0; i < 1000; i++) {
  if (i < 60) SECOND_DOT.push(`${String(i).padStart(2, '0')}.`);
  MILLI_Z.push(`${String(i).padStart(3, '0')}Z`);
}

// Consecutive events fall in the same minute; a presence carries two times (started, last),
// so two minutes are kept: "YYYY-MM-DDTHH:MM:" for each.
const MINUTE_MS = 60000;
let minuteA = NaN;
let prefixA = '';
let minuteB = NaN;
let prefixB = '';

function minutePrefix(minute: number): string {
  if (minute === minuteA) return prefixA;
  if (minute === minuteB) return prefixB;
  const prefix = new Date(minute * MINUTE_MS).toISOString().slice(0, 17);
  minuteB = minuteA;
  prefixB = prefixA;
  minuteA = minute;
  prefixA = prefix;
  return prefix;
}

/** `2026-03-01T08:00:00.000Z`, or undefined outside years 0000..9999. */
export function isoFromUnixMs(ms: number): string | undefined {
  if (!Number.isSafeInteger(ms) || ms < MIN_ISO_MS || ms > MAX_ISO_MS) return undefined;
  const minute = Math.floor(ms / MINUTE_MS);
  const rest = ms - minute * MINUTE_MS;
  const milli = rest % 1000;
  return minutePrefix(minute) + SECOND_DOT[(rest - milli) / 1000] + MILLI_Z[milli];
}

/** Unix ms of an ISO-8601 date-time with a zone (Z or +hh:mm), at most ms precision; else undefined. */
export function unixMsFromIso(text: string): number | undefined {
  const m = ISO_TEXT.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined;
  const milli = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  let ms = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + milli;
  if (zone !== 'Z') {
    const zh = Number(zone!.slice(1, 3));
    const zm = Number(zone!.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    const offset = (zh * 60 + zm) * 60000;
    ms += zone![0] === '+' ? -offset : offset;
  }
  if (ms < MIN_ISO_MS || ms > MAX_ISO_MS) return undefined;
  return ms;
}
