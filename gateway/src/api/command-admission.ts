// Whether a command may be queued for a spot: its size, its content, the room left in the spot's queue.
// REST and MQTT commands go through the same admission (docs/api.md, Commands: bounds).
import type { IngestCounters } from '../ingest/counters.js';
import { commandSize } from '../store/command-queue.js';
import type { Command, Store } from '../store/types.js';
import type { CommandBody, CommandCheck } from './commands.js';

export interface CommandLimits {
  /** Largest command, bytes of its JSON message (the protocol's message limit). */
  maxBytes: number;
  /** Commands waiting for one spot. */
  maxQueuedPerSpot: number;
  /** Bytes of the commands waiting for one spot. */
  maxQueuedBytesPerSpot: number;
}

/** Why a command was not queued: a REST answer maps each to its status (400, 413, 429). */
export type Refusal = 'invalid' | 'too large' | 'queue full';

export type Admission = { ok: true; command: Command } | { ok: false; refusal: Refusal; reason: string };

export interface CommandAdmissionDeps {
  store: Pick<Store, 'commands'>;
  check: CommandCheck;
  limits: CommandLimits;
  ttlMs: number;
  now: () => number;
  counters: Pick<IngestCounters, 'commandsRefusedInvalid' | 'commandsRefusedTooLarge' | 'commandsRefusedQueueFull'>;
  /** A command was queued for `spot` and is durable (a spot connected over WebSocket gets it at once). */
  queued?: (spot: string) => void;
}

/** Deep enough to overflow JSON.stringify: left to the check, which refuses it by depth without recursion. */
function jsonBytes(command: CommandBody): number | null {
  try {
    return commandSize(command.resource, command.action, JSON.stringify(command.data));
  } catch {
    return null;
  }
}

export class CommandAdmission {
  constructor(private readonly deps: CommandAdmissionDeps) {}

  /** A command refused as too large before it reached admit() (an MQTT payload over the packet bound). */
  countTooLarge(): void {
    this.deps.counters.commandsRefusedTooLarge++;
  }

  /**
   * Size first (a command too large for any spot is refused as such, whatever else is wrong with it),
   * then content, then room in the spot's queue; queued only when all three pass. The checks and the insert
   * happen in the call's own turn (two admissions cannot both take the last room); it resolves once the
   * command is durable, and rejects with StoreUnavailableError when it cannot be stored.
   */
  async admit(spot: string, command: CommandBody, source: string): Promise<Admission> {
    const { limits, counters } = this.deps;
    const size = jsonBytes(command);
    if (size !== null && size > limits.maxBytes) {
      counters.commandsRefusedTooLarge++;
      return {
        ok: false,
        refusal: 'too large',
        reason: `spot ${spot}: command of ${size} bytes is over the limit of ${limits.maxBytes} bytes (commands.max_bytes, a spot's message limit)`,
      };
    }
    const checked = this.deps.check(command);
    if (!checked.ok || size === null) {
      counters.commandsRefusedInvalid++;
      return { ok: false, refusal: 'invalid', reason: checked.ok ? `${command.resource} ${command.action}: command data cannot be serialised` : checked.reason };
    }
    const now = this.deps.now();
    const queued = this.deps.store.commands.queuedTotals(spot, now);
    if (queued.count >= limits.maxQueuedPerSpot) {
      counters.commandsRefusedQueueFull++;
      return {
        ok: false,
        refusal: 'queue full',
        reason: `spot ${spot}: queue full: ${queued.count} commands waiting, the limit (commands.max_queued_per_spot); they leave as the spot posts or expire`,
      };
    }
    if (queued.bytes + size > limits.maxQueuedBytesPerSpot) {
      counters.commandsRefusedQueueFull++;
      return {
        ok: false,
        refusal: 'queue full',
        reason: `spot ${spot}: queue full: ${queued.bytes} bytes of commands waiting, and this one's ${size} would pass the limit of ${limits.maxQueuedBytesPerSpot} bytes (commands.max_queued_bytes_per_spot)`,
      };
    }
    const enqueued = await this.deps.store.commands.enqueue(spot, {
      resource: command.resource,
      action: command.action,
      data: JSON.stringify(command.data),
      source,
      ttlMs: this.deps.ttlMs,
    });
    this.deps.queued?.(spot);
    return { ok: true, command: enqueued };
  }
}
