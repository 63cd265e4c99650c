// Writes events.json and streams.json from the hand-written cases below (run: make vectors).
// The JSON texts are the input; canonical objects and PB bytes are computed, then reviewed by hand.
import { writeFileSync } from 'node:fs';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FrameSchema } from '../../gateway/src/gen/spot_pb.js';
import {
  canonicalize,
  createJsonDecoder,
  createPbEncoder,
  encodeFrame,
  encodeJsonEvent,
} from '../../gateway/src/protocol/index.js';

interface EventCase {
  name: string;
  json: string;
  boot?: number;
  seq?: number;
}

const T = '2026-03-01T08:00:00.000Z';
const EPC = 'e28011700000020a1b2c3d4e';
const BLE = 'c4f2a1b3d5e6';

const events: EventCase[] = [
  {
    name: 'spot_create_pretty_tabs',
    json: '["spot","create",{\n\t"spot_id":\t4711,\n\t"version":\t"2.3.1",\n\t"pcb_version":\t"r4",\n\t"online":\ttrue,\n\t"dip_mask":\t5,\n\t"rfid_swr":\t[1.1, 1.25, 3, 20.5],\n\t"boot_count":\t12,\n\t"watchdog_count":\t0,\n\t"time":\t"2026-03-01T08:00:00Z",\n\t"presence_create_count":\t1234,\n\t"time_started":\t"2026-03-01T07:59:55.5Z",\n\t"output_1":\tfalse,\n\t"output_2":\ttrue,\n\t"input_1":\tfalse,\n\t"input_2":\tfalse\n}]',
  },
  {
    name: 'spot_create_drifted_types',
    json: '["spot","create",{"spot_id":"201","version":2.3,"online":"true","output_1":"false","boot_count":"12","rfid_swr":["1.5",2],"time":1772352000000,"uptime_s":3600,"dip_mask":"0x05"}]',
  },
  { name: 'spot_update_online', json: '["spot","update",{"online":true}]' },
  { name: 'spot_update_with_time_and_unknown', json: '["spot","update",{"online":false,"time":"2026-03-01T08:00:01.000Z","rssi":-61}]' },
  {
    name: 'config_create_every_key',
    json: JSON.stringify([
      'config',
      'create',
      {
        rfid_power_dbm: 27, rfid_continues: true, rfid_channel: 0, rfid_region: 'eu', rfid_period_ms: 100,
        max_antenna_swr: 3, antenna_disable_mask: 0, scramble_item_codes: false, time: T, rfid_immediate: -450,
        rfid_near: -600, rfid_hysteresis: 30, rfid_max_window_size: 10, rfid_target: 'A', rfid_action: 0, rfid_dr: 1,
        rfid_m: 2, rfid_sel: 0, rfid_session: 1, rfid_min_q: 0, rfid_max_q: 15, rfid_blf: 320, bt_immediate: -55,
        bt_near: -75, bt_hysteresis: 3, bt_max_window_size: 10, auto_hold_delay: true, fixed_hold_delay_s: 4,
        event_beep: false, presence_beep: false, hit_beep: false,
        control_schema: { output_1: { trigger: 'presence', hold_ms: 500 }, led: ['hit', 'presence'] },
        brain_address: 'brain.local', update_address: '', dashboard_address: '', dashboard_reconnect: true,
        dashboard_period_s: 60, alive_ds: 10, use_dhcp: true, ip: '0.0.0.0', subnet: '255.255.255.0',
        gateway: '0.0.0.0', dns_primary: '0.0.0.0', dns_secondary: '0.0.0.0', telnet: false, send_hits: false,
        hostname: 'spot', post_window_ms: 1000, new_vendor_key: 'kept',
      },
    ]),
  },
  { name: 'config_update_command_brain_address', json: '["config","update",{"brain_address":"192.168.0.120"}]' },
  { name: 'config_update_command_factory_reset', json: '["config","update",{"reset":true}]' },
  {
    name: 'config_update_drifted_and_out_of_type',
    json: '["config","update",{"rfid_power_dbm":"27","send_hits":"true","rfid_channel":10000000000,"max_antenna_swr":"2.5","rfid_near":null,"hostname":4711}]',
  },
  { name: 'config_update_negative_int32', json: '["config","update",{"rfid_power_dbm":-1,"rfid_immediate":-1000}]' },
  {
    name: 'hit_create',
    json: `["hit","create",{"time":"2026-03-01T08:00:02.125Z","item_code":"${EPC}","item_codetype":"EPC Gen2","antenna":2,"signal_strength":-428}]`,
  },
  {
    name: 'presence_create_example',
    json: `["presence","create",{"item_code":"${EPC}","item_codetype":"EPC Gen2","time_started":"2026-03-01T08:00:01.250Z","time_last":"2026-03-01T08:00:01.250Z","proximity":"near","hold_delay_s":4}]`,
  },
  {
    name: 'presence_update_bluetooth_keys_out_of_order',
    json: `["presence","update",{"proximity":"immediate","zone":"entrance","time_last":"2026-03-01T10:00:01+02:00","item_code":"${BLE}","item_codetype":"Bluetooth LE","time_started":"2026-03-01T07:59:00.000Z","hold_delay_s":10}]`,
  },
  {
    name: 'presence_delete_crlf',
    json: `["presence","delete",{\r\n\t"item_code":\t"${EPC}",\r\n\t"item_codetype":\t"EPC Gen2",\r\n\t"time_started":\t"2026-03-01T08:00:01.250Z",\r\n\t"time_last":\t"2026-03-01T08:00:09.000Z",\r\n\t"proximity":\t"far",\r\n\t"hold_delay_s":\t4\r\n}]`,
  },
  { name: 'presence_create_only_item_code', json: `["presence","create",{"item_code":"${EPC}"}]` },
  { name: 'presence_delete_empty_object', json: '["presence","delete",{}]' },
  {
    name: 'presence_drifted_values_kept',
    json: `["presence","update",{"item_code":"${EPC}","item_codetype":1,"proximity":"NEAR","time_last":"yesterday","hold_delay_s":-4,"item_ref":3,"extra_json":"x"}]`,
  },
  {
    name: 'antenna_presence_create',
    json: `["antenna_presence","create",{"item_code":"${EPC}","item_codetype":"EPC Gen2","antenna":1,"proximity":"immediate","signal_strength":-391,"time_started":"2026-03-01T08:00:01.250Z","hold_delay_s":4,"time_last":"2026-03-01T08:00:01.250Z"}]`,
  },
  { name: 'antenna_presence_update', json: `["antenna_presence","update",{"item_code":"${EPC}","antenna":3,"proximity":"far","signal_strength":-702,"time_last":"2026-03-01T08:00:04.000Z"}]` },
  { name: 'antenna_presence_delete', json: `["antenna_presence","delete",{"item_code":"${EPC}","antenna":3,"time_last":"2026-03-01T08:00:08.000Z"}]` },
  {
    name: 'hit_report_create',
    json: `["hit_report","create",{"item_code":"${EPC}","item_codetype":"EPC Gen2","antenna":4,"count":153,"signal_min":-650,"signal_max":-410,"signal_avg":-512,"time":"${T}","period_ms":1000}]`,
  },
  { name: 'sense_update', json: '["sense","update",{"input":2,"value":true,"time":"2026-03-01T08:00:03.000Z"}]' },
  { name: 'brain_sense_update_command', json: '["brain_sense","update",{"bs1":1,"bs3":-7,"bs5":32767}]' },
  { name: 'brain_sense_update_report', json: `["brain_sense","update",{"bs1":0,"bs2":0,"bs3":0,"bs4":0,"bs5":0,"time":"${T}"}]` },
  {
    name: 'item_set_update_empty_removed_list',
    json: `["item_set","update",{"added":["${EPC}","${BLE}"],"removed":[],"count":2,"time":"${T}"}]`,
  },
  { name: 'test_ping_largest_uint32', json: `["test_ping","create",{"id":4294967295,"time":"${T}"}]` },
  {
    name: 'log_create_unicode_and_escapes',
    json: '["log","create",{"level":"warn","text":"Grüße aus 東京 🛰 \\"quoted\\"\\n\\ttab \\u001f\\u007f end","code":7,"time":"2026-03-01T08:00:00.001Z"}]',
  },
  {
    // U+0000 has no form in a C string: the text does not fit the string field and travels in extra_json.
    name: 'log_create_nul_in_text_stays_in_extra',
    json: '["log","create",{"level":"error","text":"nul \\u0000 inside","code":1,"source":"uart"}]',
  },
  { name: 'log_create_empty_text', json: '["log","create",{"level":"debug","text":""}]' },
  { name: 'firmware_update_command', json: '["firmware","update",{"url":"/firmware/beta/beta22.bin","version":"beta22"}]' },
  { name: 'firmware_update_reset_counters', json: '["firmware","update",{"reset_counters":true}]' },
  {
    name: 'generic_unknown_resource',
    json: '["door","open",{"door_id":"D-12","time":"2026-03-01T08:00:00Z","nested":{"list":[1,2.5,"three",null,true]},"big":9007199254740991}]',
  },
  {
    name: 'large_numbers_and_far_times',
    json: '["spot","create",{"spot_id":4294967295,"presence_create_count":0,"time":"9999-12-31T23:59:59.999Z","time_started":"1969-12-31T23:59:59.999Z","counter_64":9007199254740991,"negative":-9007199254740991}]',
  },
  { name: 'numbered_frame_boot_seq', json: `["sense","update",{"input":1,"value":false,"time":"${T}"}]`, boot: 12, seq: 9007199254740991 },
  { name: 'numbered_frame_seq_one', json: '["spot","update",{"online":true}]', boot: 0, seq: 1 },
];

interface StreamCase {
  name: string;
  /** Event texts, as in events above (JSON), with optional numbering. */
  events: { json: string; boot?: number; seq?: number }[];
}

function presence(action: string, code: string, last: string, proximity = 'near'): string {
  return `["presence","${action}",{"item_code":"${code}","item_codetype":"EPC Gen2","time_started":"2026-03-01T08:00:01.250Z","time_last":"${last}","proximity":"${proximity}","hold_delay_s":4}]`;
}

const code = (i: number): string => `e2801170000002${i.toString(16).padStart(10, '0')}`;

const streams: StreamCase[] = [
  {
    name: 'post_with_offsets_and_refs',
    events: [
      { json: events[0]!.json, boot: 12, seq: 1 },
      { json: presence('create', EPC, '2026-03-01T08:00:01.250Z'), boot: 12, seq: 2 },
      { json: `["hit","create",{"time":"2026-03-01T08:00:01.300Z","item_code":"${EPC}","item_codetype":"EPC Gen2","antenna":1,"signal_strength":-428}]`, boot: 12, seq: 3 },
      { json: presence('update', EPC, '2026-03-01T08:00:02.000Z', 'immediate'), boot: 12, seq: 4 },
      { json: '["spot","update",{"online":true}]', boot: 12, seq: 5 },
      { json: presence('delete', EPC, '2026-03-01T08:00:06.000Z', 'far'), boot: 12, seq: 6 },
    ],
  },
  {
    name: 'time_going_backwards',
    events: [
      { json: `["sense","update",{"input":1,"value":true,"time":"2026-03-01T08:00:05.000Z"}]` },
      { json: `["sense","update",{"input":1,"value":false,"time":"2026-03-01T08:00:04.000Z"}]` },
      { json: `["test_ping","create",{"id":1}]` },
      { json: `["sense","update",{"input":2,"value":true,"time":"2026-03-01T08:00:04.500Z"}]` },
    ],
  },
  {
    name: 'item_table_full_after_64_codes',
    events: [
      ...Array.from({ length: 66 }, (_, i) => ({ json: `["presence","create",{"item_code":"${code(i)}","time_last":"2026-03-01T08:00:0${i % 10}.000Z"}]` })),
      { json: `["presence","update",{"item_code":"${code(0)}","time_last":"2026-03-01T08:00:10.000Z"}]` },
      { json: `["presence","update",{"item_code":"${code(63)}","time_last":"2026-03-01T08:00:10.000Z"}]` },
      { json: `["presence","update",{"item_code":"${code(64)}","time_last":"2026-03-01T08:00:10.000Z"}]` },
      { json: `["antenna_presence","create",{"item_code":"${code(5)}","antenna":2}]` },
      { json: `["hit_report","create",{"item_code":"${code(6)}","count":3}]` },
    ],
  },
];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = new TextEncoder();

function decodeOne(json: string): { resource: string; action: string; data: Record<string, unknown> } {
  const d = createJsonDecoder();
  const items = [...d.push(text.encode(json)), ...d.end()];
  const first = items[0];
  if (items.length !== 1 || first?.kind !== 'event') throw new Error(`not one event: ${json}`);
  return first.event;
}

/** protobuf-es must read the bytes and write them back identically (field order, packing). */
function crossCheck(name: string, frame: Uint8Array): void {
  const again = toBinary(FrameSchema, fromBinary(FrameSchema, frame));
  if (hex(again) !== hex(frame)) throw new Error(`${name}: protobuf-es writes ${hex(again)}, we wrote ${hex(frame)}`);
}

const eventOut = events.map((c) => {
  const ev = decodeOne(c.json);
  const canonical = { resource: ev.resource, action: ev.action, data: canonicalize(ev.resource, ev.action, ev.data) };
  const numbered = { ...canonical, ...(c.boot !== undefined ? { boot: c.boot } : {}), ...(c.seq !== undefined ? { seq: c.seq } : {}) };
  const pb = encodeFrame(numbered);
  crossCheck(c.name, pb);
  return {
    name: c.name,
    json: c.json,
    canonical,
    ...(c.boot !== undefined ? { boot: c.boot } : {}),
    ...(c.seq !== undefined ? { seq: c.seq } : {}),
    json_compact: new TextDecoder().decode(encodeJsonEvent(canonical)),
    pb_hex: hex(pb),
  };
});

const streamOut = streams.map((s) => {
  const encoder = createPbEncoder();
  const parts: string[] = [];
  const jsonParts: string[] = [];
  const list = s.events.map((e) => {
    const ev = decodeOne(e.json);
    const canonical = { resource: ev.resource, action: ev.action, data: canonicalize(ev.resource, ev.action, ev.data) };
    const numbered = { ...canonical, ...(e.boot !== undefined ? { boot: e.boot } : {}), ...(e.seq !== undefined ? { seq: e.seq } : {}) };
    parts.push(hex(encoder.encode(numbered)));
    jsonParts.push(new TextDecoder().decode(encodeJsonEvent(canonical)));
    return numbered;
  });
  return { name: s.name, events: list, pb_stream_hex: parts.join(''), json_stream: jsonParts.join('') };
});

const dir = new URL('.', import.meta.url).pathname;
writeFileSync(`${dir}events.json`, `${JSON.stringify(eventOut, null, 2)}\n`);
writeFileSync(`${dir}streams.json`, `${JSON.stringify(streamOut, null, 2)}\n`);
console.log(`vectors: ${eventOut.length} event cases, ${streamOut.length} stream cases written to ${dir}`);
