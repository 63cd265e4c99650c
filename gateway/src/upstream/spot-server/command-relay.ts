// The commands a spot server wrote into a post's answer, queued here for that spot (docs/chaining.md,
// "Commands"): decoded in the post's encoding, admitted like REST and MQTT commands, sent down in the
// spot's next reply.
import { createJsonDecoder, createPbDecoder, type Encoding } from '../../protocol/index.js';
import { describe } from '../options.js';

export interface RelayedCommand {
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

/** Queues a command for a spot; throws (with the reason) when it is refused. */
export type QueueCommand = (spot: string, command: RelayedCommand) => void;

export interface RelayOutcome {
  queued: number;
  /** One line per command not queued: undecodable, or refused by the admission. */
  refused: string[];
}

/** Decodes `body` (the answer to a post of `spot` in `encoding`) and queues each command, in order. */
export function relayCommands(spot: string, body: Uint8Array, encoding: Encoding, queue: QueueCommand): RelayOutcome {
  const outcome: RelayOutcome = { queued: 0, refused: [] };
  if (body.length === 0) return outcome;
  const decoder = encoding === 'pb' ? createPbDecoder() : createJsonDecoder();
  for (const item of [...decoder.push(body), ...decoder.end()]) {
    if (item.kind === 'rejected') {
      outcome.refused.push(`undecodable command at byte ${item.rejected.offset}: ${item.rejected.reason}`);
      continue;
    }
    const { resource, action, data } = item.event;
    try {
      queue(spot, { resource, action, data });
      outcome.queued++;
    } catch (err) {
      outcome.refused.push(`${resource} ${action}: ${describe(err)}`);
    }
  }
  return outcome;
}
