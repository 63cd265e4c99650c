// The objects a stream decoder yields per event, built so V8 can never pretenure them.
import type { DecodedItem, SpotEvent } from './types.js';

// Stores into empty objects, not object literals: V8 gives every literal an allocation site,
// and if one GC finds most of that site's objects alive (a caller holding a push's events, a
// GC in the middle of a push), it pretenures the site for the life of the process. Every event
// is then born in old space and freed by full GCs: the PB decoder ran at a third of its speed in
// some processes (docs/protocol.md, "Decoding speed"). `{}` has no allocation site.

/** The event with its stream position; callers add boot, seq and pb after it, in that order. */
export function newEvent(
  resource: string,
  action: string,
  data: Record<string, unknown>,
  offset: number,
  index: number,
  dataJson?: string,
): SpotEvent {
  const event = {} as SpotEvent;
  event.resource = resource;
  event.action = action;
  event.data = data;
  event.dataJson = dataJson;
  event.offset = offset;
  event.index = index;
  return event;
}

export function eventItem(event: SpotEvent): DecodedItem {
  const item = {} as { kind: 'event'; event: SpotEvent };
  item.kind = 'event';
  item.event = event;
  return item;
}
