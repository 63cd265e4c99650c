// A quarantined event published again by hand (POST /api/quarantine/:id/resend): it leaves the
// quarantine on its PUBACK; a refusal or a lost connection keeps it there with the reason.
import type { QuarantineBook, QuarantinedEvent } from '../store/types.js';
import { describe, stableEventId, type UpstreamLogger } from './options.js';
import type { PublishChannel } from './publish-channel.js';
import type { Topics } from './topics.js';

export type ResendOutcome = { ok: true } | { ok: false; status: 404 | 409 | 503; reason: string };

export interface ResenderOptions {
  book: QuarantineBook | undefined;
  upstream: string;
  instanceId: string;
  topics: Topics;
  logger: UpstreamLogger;
  /** Resent messages take window slots: +n when sent, -1 per PUBACK. */
  onSlots: (delta: number) => void;
}

export class QuarantineResender {
  /** Entry id -> the connection generation its messages went out on. */
  private readonly inFlight = new Map<number, number>();

  constructor(private readonly o: ResenderOptions) {}

  /** `channel` null: no connection; `room`: free window slots now, of `window`. */
  resend(id: number, channel: PublishChannel | null, generation: number, room: number, window: number): ResendOutcome {
    const { book, upstream } = this.o;
    let entry: QuarantinedEvent | null;
    try {
      entry = book?.get(id) ?? null;
    } catch (err) {
      return { ok: false, status: 503, reason: `reading quarantine entry ${id} failed: ${describe(err)}` };
    }
    if (!entry || entry.upstream !== upstream) return { ok: false, status: 404, reason: `no quarantined event ${id} for upstream ${upstream}` };
    if (this.inFlight.has(id)) return { ok: false, status: 409, reason: `quarantined event ${id} is being resent already; wait for the broker's answer` };
    const keeps = `; event ${entry.eventId} of spot ${entry.spot} stays quarantined, try again`;
    if (!channel) return { ok: false, status: 503, reason: `upstream ${upstream} has no connection now${keeps} once it is connected` };
    const parts = entry.pb ? 2 : 1;
    if (parts > window) return { ok: false, status: 503, reason: `the broker's Receive Maximum of ${window} cannot take the event's JSON and PB messages at once${keeps} on a broker that takes two` };
    if (room < parts) return { ok: false, status: 503, reason: `upstream ${upstream} has no free window slot now (a backlog is going out)${keeps} in a moment` };
    const jsonTopic = this.o.topics.eventJsonChecked(entry.spot, entry.resource, entry.action);
    if (jsonTopic === null) return { ok: false, status: 409, reason: `spot ${entry.spot}: resource or action of event ${entry.eventId} cannot be a topic level` };
    const eventId = stableEventId(this.o.instanceId, entry.eventId);
    const quarantined = entry;
    let remaining = parts;
    let refused: string | null = null;
    const done = (err?: Error): void => {
      if (this.inFlight.get(id) !== generation) return;
      this.o.onSlots(-1);
      if (err) refused ??= describe(err);
      if (--remaining > 0) return;
      this.inFlight.delete(id);
      this.settle(quarantined, refused);
    };
    this.inFlight.set(id, generation);
    this.o.onSlots(parts);
    try {
      channel.publish(jsonTopic, entry.data, eventId, 'application/json', done);
      if (entry.pb) channel.publish(this.o.topics.eventPb(entry.spot), entry.pb, eventId, 'application/x-protobuf', done);
      channel.flush();
    } catch (err) {
      this.inFlight.delete(id);
      this.o.onSlots(-remaining);
      return { ok: false, status: 503, reason: `publishing failed: ${describe(err)}${keeps}` };
    }
    this.o.logger.info({ spot: entry.spot, eventId: entry.eventId }, `mqtt: spot ${entry.spot}: quarantined event ${entry.eventId} resent by hand`);
    return { ok: true };
  }

  /** The connection is gone: what was being resent stays quarantined, a strike each. */
  lost(reason: string): void {
    for (const id of this.inFlight.keys()) this.note(id, `the connection was lost while it was being resent: ${reason}`, 1);
    this.inFlight.clear();
  }

  private settle(entry: QuarantinedEvent, refused: string | null): void {
    if (refused !== null) {
      this.note(entry.id, `the broker refused the resend: ${refused}`, 0);
      return;
    }
    try {
      this.o.book?.remove(entry.id);
    } catch (err) {
      this.o.logger.error({ spot: entry.spot, eventId: entry.eventId }, `mqtt: spot ${entry.spot}: event ${entry.eventId} was delivered on resend, but removing it from the quarantine failed: ${describe(err)}`);
      return;
    }
    this.o.logger.info({ spot: entry.spot, eventId: entry.eventId }, `mqtt: spot ${entry.spot}: quarantined event ${entry.eventId} delivered on resend; removed from the quarantine`);
  }

  private note(id: number, reason: string, strikes: number): void {
    try {
      this.o.book?.noteResend(id, reason, strikes);
      this.o.logger.warn({ quarantineId: id }, `mqtt: quarantined event (entry ${id}) not delivered: ${reason}; it stays quarantined`);
    } catch (err) {
      this.o.logger.error({ quarantineId: id }, `mqtt: recording the failed resend of quarantine entry ${id} failed: ${describe(err)}`);
    }
  }
}
