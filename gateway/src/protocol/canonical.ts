// The canonical event object: schema types where a value reads as its type without loss.
import { eventKind, type FieldSpec, type MessageSpec } from './schema.js';
import { isoFromUnixMs, unixMsFromIso } from './time.js';

/** Marker: the value cannot be read as the field's type; it stays as sent. */
export const NO_FIT: unique symbol = Symbol('no fit');

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;
const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;
const NUMBER_TEXT = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Sets an own property, also for the key "__proto__" (which plain assignment would not). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * The value as JSON text would carry it back: -0 becomes 0 (JSON.stringify writes "0").
 * Returns the same object when nothing changes.
 */
export function normalizeJsonValue(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = normalizeJsonValue(value[i]);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  const obj = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const v = normalizeJsonValue(obj[key]);
    if (v !== obj[key]) {
      if (!copy) {
        copy = {};
        for (const k of Object.keys(obj)) setOwn(copy, k, obj[k]);
      }
      setOwn(copy, key, v);
    }
  }
  return copy ?? value;
}

/** No lone surrogates: such a string has no UTF-8 form (ES2024 String#isWellFormed, in Node 20). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function integerIn(value: unknown, min: number, max: number): number | typeof NO_FIT {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && INTEGER_TEXT.test(value)) n = Number(value);
  else return NO_FIT;
  if (!Number.isSafeInteger(n) || n < min || n > max) return NO_FIT;
  return n === 0 ? 0 : n;
}

function fitScalar(field: FieldSpec, value: unknown): unknown {
  switch (field.kind) {
    case 'int32':
    case 'sint32':
      return integerIn(value, INT32_MIN, INT32_MAX);
    case 'uint32':
      return integerIn(value, 0, UINT32_MAX);
    case 'uint64':
      return integerIn(value, 0, Number.MAX_SAFE_INTEGER);
    case 'sint64':
      if (field.isTime) {
        if (typeof value === 'string') {
          const ms = unixMsFromIso(value);
          return ms === undefined ? NO_FIT : isoFromUnixMs(ms);
        }
        if (typeof value === 'number' && Number.isSafeInteger(value)) return isoFromUnixMs(value) ?? NO_FIT;
        return NO_FIT;
      }
      return integerIn(value, -(2 ** 52), 2 ** 52);
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true') return true;
      if (value === 'false') return false;
      return NO_FIT;
    case 'string':
      // U+0000 has no place in nanopb's NUL-terminated strings: such text stays as sent.
      if (typeof value === 'string') return isWellFormed(value) && !value.includes('\u0000') ? value : NO_FIT;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return NO_FIT;
    case 'double':
      if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
      if (typeof value === 'string' && NUMBER_TEXT.test(value)) {
        const n = Number(value);
        return Number.isFinite(n) ? n : NO_FIT;
      }
      return NO_FIT;
    case 'enum':
      return typeof value === 'string' && field.enumNumbers!.has(value) ? value : NO_FIT;
  }
}

/** The value in the field's canonical JSON form, or NO_FIT. */
export function fitValue(field: FieldSpec, value: unknown): unknown {
  if (field.isNestedJson) return value === undefined ? NO_FIT : normalizeJsonValue(value);
  if (!field.repeated) return fitScalar(field, value);
  // An empty list has no PB form (absent = missing key), so [] stays as sent.
  if (!Array.isArray(value) || value.length === 0) return NO_FIT;
  const out: unknown[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v = fitScalar(field, value[i]);
    if (v === NO_FIT) return NO_FIT;
    out[i] = v;
  }
  return out;
}

/** An event object split into schema fields (canonical values) and everything else. */
export interface SplitObject {
  /** Values by index into spec.fields; undefined = absent. */
  known: unknown[];
  /** Keys the schema does not know, or whose values do not fit, in the order sent. */
  extra: [string, unknown][];
}

export function splitObject(spec: MessageSpec, data: Record<string, unknown>): SplitObject {
  const known: unknown[] = new Array(spec.fields.length);
  const extra: [string, unknown][] = [];
  for (const key of Object.keys(data)) {
    const value = data[key];
    const field = spec.byJsonKey.get(key);
    if (field !== undefined) {
      const fitted = fitValue(field, value);
      if (fitted !== NO_FIT) {
        known[field.position] = fitted;
        continue;
      }
    }
    extra.push([key, normalizeJsonValue(value)]);
  }
  return { known, extra };
}

/** Builds the canonical object: schema fields in field-number order, then the rest in order sent. */
export function joinObject(spec: MessageSpec, split: SplitObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = spec.fields;
  for (let i = 0; i < fields.length; i++) {
    const v = split.known[i];
    if (v !== undefined) out[fields[i]!.jsonKey] = v;
  }
  for (const [key, value] of split.extra) if (!Object.prototype.hasOwnProperty.call(out, key)) setOwn(out, key, value);
  return out;
}

/**
 * The canonical form of an event object (docs/protocol.md, "Canonical event object").
 * Unknown resource/action: the object as sent (only -0 normalized).
 */
export function canonicalize(resource: string, action: string, data: Record<string, unknown>): Record<string, unknown> {
  const kind = eventKind(resource, action);
  if (!kind) return normalizeJsonValue(data) as Record<string, unknown>;
  return joinObject(kind.message, splitObject(kind.message, data));
}
