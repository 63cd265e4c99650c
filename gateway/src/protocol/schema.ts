// Field tables for the codecs, built once from the descriptors generated from spot.proto.
import { ScalarType, type DescEnum, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { FrameSchema } from '../gen/spot_pb.js';

/** How a field's value is written on the wire and read from JSON. */
export type FieldKind = 'int32' | 'uint32' | 'sint32' | 'uint64' | 'sint64' | 'bool' | 'string' | 'double' | 'enum';

export interface FieldSpec {
  readonly number: number;
  /** Index in MessageSpec.fields, or -1 (item_ref, extra_json). */
  readonly position: number;
  /** Field name in spot.proto. */
  readonly name: string;
  /** Key in the JSON event object (`*_json` fields drop the suffix). */
  readonly jsonKey: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** `time` / `time_*`: ISO-8601 string in JSON, unix ms on the wire. */
  readonly isTime: boolean;
  /** `*_json`: a nested JSON value carried as JSON text. */
  readonly isNestedJson: boolean;
  /** Enum value number -> JSON name, and back. */
  readonly enumNames?: ReadonlyMap<number, string>;
  readonly enumNumbers?: ReadonlyMap<string, number>;
  /** Wire type: 0 varint, 1 fixed64, 2 length-delimited. */
  readonly wireType: 0 | 1 | 2;
  /** The field's tag as a varint, precomputed (packed repeated scalars use wire type 2). */
  readonly tag: Uint8Array;
}

export interface MessageSpec {
  /** 0, 1, 2, ...: index of this message among the schema's event messages. */
  readonly id: number;
  readonly typeName: string;
  /** Every field, in field-number order. */
  readonly all: readonly FieldSpec[];
  /** Fields the JSON object maps to, in field-number order (item_ref and extra_json excluded). */
  readonly fields: readonly FieldSpec[];
  readonly byJsonKey: ReadonlyMap<string, FieldSpec>;
  /** Every field of the message by number, item_ref and extra_json included. */
  readonly byNumber: readonly (FieldSpec | undefined)[];
  /** Field 9, the timestamp the send layer sends as an offset. */
  readonly timestamp?: FieldSpec;
  /** Field `item_code` when the message also has `item_ref` (send-layer trick 2). */
  readonly itemCode?: FieldSpec;
  readonly itemRef?: FieldSpec;
  readonly extraJson?: FieldSpec;
}

/** One event kind: a `Frame` oneof field `<resource>_<action>`. */
export interface EventKind {
  readonly resource: string;
  readonly action: string;
  readonly frameField: number;
  readonly frameTag: Uint8Array;
  readonly message: MessageSpec;
}

export const TIMESTAMP_FIELD = 9;
export const EXTRA_JSON_FIELD = 100;
export const FRAME_BOOT_FIELD = 30;
export const FRAME_SEQ_FIELD = 31;
export const GENERIC_FRAME_FIELD = 20;
/** Item codes one stream may reference (send-layer trick 2). */
export const ITEM_TABLE_SIZE = 64;
const ACTIONS = ['create', 'update', 'delete'];

/** JSON names of enum values whose lowercase form is not the name spots use. */
const ENUM_JSON_NAMES: Record<string, string> = {
  'spot.v1.ItemCodeType.ITEM_CODE_TYPE_EPC_GEN2': 'EPC Gen2',
  'spot.v1.ItemCodeType.ITEM_CODE_TYPE_BLUETOOTH_LE': 'Bluetooth LE',
};

export function varintBytes(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function enumPrefix(desc: DescEnum): string {
  return desc.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase() + '_';
}

function enumTables(desc: DescEnum): { names: Map<number, string>; numbers: Map<string, number> } {
  const prefix = enumPrefix(desc);
  const names = new Map<number, string>();
  const numbers = new Map<string, number>();
  for (const value of desc.values) {
    const json = ENUM_JSON_NAMES[`${desc.typeName}.${value.name}`] ?? value.name.slice(prefix.length).toLowerCase();
    names.set(value.number, json);
    numbers.set(json, value.number);
  }
  return { names, numbers };
}

function scalarKind(type: ScalarType, where: string): FieldKind {
  switch (type) {
    case ScalarType.INT32:
      return 'int32';
    case ScalarType.UINT32:
      return 'uint32';
    case ScalarType.SINT32:
      return 'sint32';
    case ScalarType.UINT64:
      return 'uint64';
    case ScalarType.SINT64:
      return 'sint64';
    case ScalarType.BOOL:
      return 'bool';
    case ScalarType.STRING:
      return 'string';
    case ScalarType.DOUBLE:
      return 'double';
    default:
      throw new Error(`${where}: scalar type ${ScalarType[type]} is not supported by the spot codecs`);
  }
}

function fieldSpec(field: DescField, where: string): FieldSpec {
  let kind: FieldKind;
  let repeated = false;
  let tables: ReturnType<typeof enumTables> | undefined;
  if (field.fieldKind === 'scalar') {
    kind = scalarKind(field.scalar, where);
  } else if (field.fieldKind === 'enum') {
    kind = 'enum';
    tables = enumTables(field.enum);
  } else if (field.fieldKind === 'list' && field.listKind === 'scalar') {
    kind = scalarKind(field.scalar, where);
    repeated = true;
  } else {
    throw new Error(`${where}: ${field.fieldKind} fields are not supported inside events`);
  }
  const packed = repeated && kind !== 'string';
  const wireType: 0 | 1 | 2 = kind === 'string' || packed ? 2 : kind === 'double' ? 1 : 0;
  const isNestedJson = field.name.endsWith('_json') && field.number !== EXTRA_JSON_FIELD;
  return {
    number: field.number,
    position: -1,
    name: field.name,
    jsonKey: isNestedJson ? field.name.slice(0, -'_json'.length) : field.name,
    kind,
    repeated,
    isTime: (field.name === 'time' || field.name.startsWith('time_')) && kind === 'sint64',
    isNestedJson,
    enumNames: tables?.names,
    enumNumbers: tables?.numbers,
    wireType,
    tag: varintBytes(field.number * 8 + wireType),
  };
}

// Every FieldSpec and every MessageSpec has all keys (undefined when absent), so the codecs'
// per-field property loads see one object shape, not one per combination of optional keys.
function messageSpec(desc: DescMessage, id: number): MessageSpec {
  const sorted = [...desc.fields].sort((a, b) => a.number - b.number);
  const hasItemRef = sorted.some((f) => f.name === 'item_ref');
  let position = 0;
  const all = sorted.map((f) => {
    const spec = fieldSpec(f, `${desc.typeName}.${f.name}`);
    const mapped = f.number !== EXTRA_JSON_FIELD && !(hasItemRef && f.name === 'item_ref');
    return { ...spec, position: mapped ? position++ : -1 };
  });
  const byNumber: (FieldSpec | undefined)[] = [];
  for (const f of all) byNumber[f.number] = f;
  const itemRef = all.find((f) => hasItemRef && f.name === 'item_ref');
  const itemCode = itemRef ? all.find((f) => f.name === 'item_code') : undefined;
  const extraJson = all.find((f) => f.number === EXTRA_JSON_FIELD);
  const fields = all.filter((f) => f.position >= 0);
  const timestamp = all.find((f) => f.number === TIMESTAMP_FIELD);
  return {
    id,
    typeName: desc.typeName,
    all,
    fields,
    byJsonKey: new Map(fields.map((f) => [f.jsonKey, f])),
    byNumber,
    timestamp,
    itemCode: itemCode && itemRef ? itemCode : undefined,
    itemRef: itemCode && itemRef ? itemRef : undefined,
    extraJson,
  };
}

function buildKinds(): { kinds: EventKind[]; generic: MessageSpec } {
  const specs = new Map<string, MessageSpec>();
  const kinds: EventKind[] = [];
  let generic: MessageSpec | undefined;
  for (const field of FrameSchema.fields) {
    if (field.oneof?.name !== 'body' || field.fieldKind !== 'message') continue;
    const desc = field.message;
    let spec = specs.get(desc.typeName);
    if (!spec) {
      spec = messageSpec(desc, specs.size);
      specs.set(desc.typeName, spec);
    }
    if (field.number === GENERIC_FRAME_FIELD) {
      generic = spec;
      continue;
    }
    const cut = field.name.lastIndexOf('_');
    const action = field.name.slice(cut + 1);
    if (cut <= 0 || !ACTIONS.includes(action)) {
      throw new Error(`Frame.${field.name}: oneof name is not <resource>_<action>`);
    }
    kinds.push({
      resource: field.name.slice(0, cut),
      action,
      frameField: field.number,
      frameTag: varintBytes(field.number * 8 + 2),
      message: spec,
    });
  }
  if (!generic) throw new Error('Frame: no generic field');
  return { kinds, generic };
}

const built = buildKinds();

/** Every event kind the schema defines, in Frame field order. */
export const EVENT_KINDS: readonly EventKind[] = built.kinds;
export const GENERIC_MESSAGE: MessageSpec = built.generic;
export const GENERIC_FRAME_TAG = varintBytes(GENERIC_FRAME_FIELD * 8 + 2);

const byName = new Map(EVENT_KINDS.map((k) => [`${k.resource}\u0000${k.action}`, k]));
const byFrameField: (EventKind | undefined)[] = [];
for (const k of EVENT_KINDS) byFrameField[k.frameField] = k;

/** The schema's kind for resource/action, or undefined (carried as GenericEvent). */
export function eventKind(resource: string, action: string): EventKind | undefined {
  return byName.get(`${resource}\u0000${action}`);
}

export function eventKindByFrameField(field: number): EventKind | undefined {
  return byFrameField[field];
}
