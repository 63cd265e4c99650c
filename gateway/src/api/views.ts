// JSON shapes the API answers with, built from store records.
import type { Command, ListedEvent, RejectedRecord, SpotRecord } from '../store/types.js';

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function spotView(spot: SpotRecord, online: boolean): Record<string, unknown> {
  return { ...spot, online };
}

/** Field names as issue 3 fixes them for /api/events (time_received). */
export function eventView(event: ListedEvent): Record<string, unknown> {
  return {
    id: event.id,
    spot: event.spot,
    resource: event.resource,
    action: event.action,
    data: parsed(event.data),
    time_received: event.timeReceived,
    forwarded: event.forwarded,
  };
}

export function commandView(command: Command): Record<string, unknown> {
  return { ...command, data: parsed(command.data) };
}

const lossy = new TextDecoder('utf-8', { fatal: false });

export function rejectedView(record: RejectedRecord): Record<string, unknown> {
  const raw = Buffer.from(record.raw.buffer, record.raw.byteOffset, record.raw.byteLength);
  return {
    id: record.id,
    spot: record.spot,
    reason: record.reason,
    offset: record.offset,
    time: record.time,
    rawBase64: raw.toString('base64'),
    rawText: lossy.decode(raw),
  };
}
