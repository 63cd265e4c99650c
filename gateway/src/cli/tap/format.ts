// How the tap prints an event: one line for a person (colour on a terminal), or one JSON object per line.
import type { SpotEvent } from '../../protocol/index.js';

/** Fields worth a glance, in this order, when the event has them. */
const KEY_FIELDS = [
  'spot_id',
  'item_code',
  'item_codetype',
  'proximity',
  'antenna',
  'signal_strength',
  'online',
  'version',
  'boot_count',
  'level',
  'message',
  'text',
  'hold_delay_s',
];

const COLOURS: Record<string, string> = { create: '32', update: '36', delete: '33' };

function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The event's key fields as `name=value`, the remaining field count as `+N`. */
export function keyFields(data: Record<string, unknown>): string {
  const shown = KEY_FIELDS.filter((k) => data[k] !== undefined);
  const parts = shown.map((k) => `${k}=${fieldText(data[k])}`);
  const rest = Object.keys(data).length - shown.length;
  if (rest > 0) parts.push(`+${rest}`);
  return parts.join(' ');
}

export interface LineOptions {
  json: boolean;
  colour: boolean;
}

/** One printed line (with its line end) for an event read at `at` from spot `serial` (undefined until known). */
export function eventLine(event: SpotEvent, serial: number | undefined, at: Date, options: LineOptions): string {
  const spot = serial ?? null;
  if (options.json) {
    return `${JSON.stringify({ time: at.toISOString(), serial: spot, resource: event.resource, action: event.action, data: event.data })}\n`;
  }
  const kind = `${event.resource} ${event.action}`;
  const time = at.toISOString().slice(11, 23);
  const who = spot === null ? 'spot ?' : `spot ${spot}`;
  const fields = keyFields(event.data);
  if (!options.colour) return `${time} ${who} ${kind} ${fields}\n`;
  const colour = COLOURS[event.action] ?? '35';
  return `\x1b[2m${time}\x1b[0m ${who} \x1b[1;${colour}m${kind}\x1b[0m ${fields}\n`;
}

/** Colour only for a terminal, and never when NO_COLOR is set to anything non-empty (no-color.org). */
export function wantColour(isTty: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTty && !env.NO_COLOR;
}
