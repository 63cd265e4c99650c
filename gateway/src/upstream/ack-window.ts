// Events in flight per spot: the cursor may pass an event only when it and every earlier one are acked.

interface Pending {
  id: number;
  /** MQTT messages of this event still waiting for PUBACK (json, and pb when present). */
  remaining: number;
}

export class AckWindow {
  private readonly spots = new Map<string, Pending[]>();
  private messages = 0;

  /** An event went out as `parts` messages. Ids per spot must be sent increasing. */
  sent(spot: string, id: number, parts: number): void {
    let list = this.spots.get(spot);
    if (!list) this.spots.set(spot, (list = []));
    list.push({ id, remaining: parts });
    this.messages += parts;
  }

  /**
   * One message of event `id` was acked. `eventDone`: that was the event's last message.
   * `advanceTo`: the highest id the spot's cursor may now move to, when the window's head moved.
   */
  acked(spot: string, id: number): { eventDone: boolean; advanceTo?: number } {
    const list = this.spots.get(spot);
    const entry = list?.find((p) => p.id === id);
    if (!list || !entry || entry.remaining === 0) return { eventDone: false };
    entry.remaining--;
    this.messages--;
    if (entry.remaining > 0) return { eventDone: false };
    let advanceTo: number | undefined;
    let done = 0;
    while (done < list.length && list[done]!.remaining === 0) advanceTo = list[done++]!.id;
    if (done > 0) list.splice(0, done);
    if (list.length === 0) this.spots.delete(spot);
    return advanceTo === undefined ? { eventDone: true } : { eventDone: true, advanceTo };
  }

  /** Events with at least one message awaiting PUBACK. */
  get events(): number {
    let n = 0;
    for (const list of this.spots.values()) n += list.length;
    return n;
  }

  /** MQTT messages awaiting PUBACK. */
  get inFlight(): number {
    return this.messages;
  }

  /** The connection is gone: nothing is in flight any more (replay starts from the cursors). */
  clear(): void {
    this.spots.clear();
    this.messages = 0;
  }
}
