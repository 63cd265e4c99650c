// Events in flight per spot: the cursor may pass an event only when it and every earlier one are acked.

interface Pending {
  id: number;
  /** MQTT messages of this event still waiting for PUBACK (json, and pb when present). */
  remaining: number;
  /** Place in the send order across spots. */
  order: number;
}

interface SpotWindow {
  /** Events in send order; those before `head` are done and gone. */
  list: Pending[];
  head: number;
}

export type AckResult = { readonly eventDone: boolean; readonly advanceTo?: number };
const NOT_DONE: AckResult = Object.freeze({ eventDone: false });
const DONE: AckResult = Object.freeze({ eventDone: true });

export class AckWindow {
  private readonly spots = new Map<string, SpotWindow>();
  private messages = 0;
  private sentEvents = 0;
  /** Reused for every advance (read at once by the caller): one ack per message, tens of thousands a second. */
  private readonly advance = { eventDone: true, advanceTo: 0 };

  /** An event went out as `parts` messages. Ids per spot must be sent increasing. */
  sent(spot: string, id: number, parts: number): void {
    let w = this.spots.get(spot);
    if (!w) this.spots.set(spot, (w = { list: [], head: 0 }));
    w.list.push({ id, remaining: parts, order: this.sentEvents++ });
    this.messages += parts;
  }

  /**
   * One message of event `id` was acked. `eventDone`: that was the event's last message.
   * `advanceTo`: the highest id the spot's cursor may now move to, when the window's head moved.
   */
  acked(spot: string, id: number): AckResult {
    const w = this.spots.get(spot);
    if (!w) return NOT_DONE;
    const list = w.list;
    let at = w.head;
    while (at < list.length && list[at]!.id !== id) at++;
    const entry = list[at];
    if (!entry || entry.remaining === 0) return NOT_DONE;
    entry.remaining--;
    this.messages--;
    if (entry.remaining > 0) return NOT_DONE;
    let head = w.head;
    let advanceTo = -1;
    while (head < list.length && list[head]!.remaining === 0) advanceTo = list[head++]!.id;
    w.head = head;
    if (head === list.length) {
      this.spots.delete(spot);
    } else if (head >= 1024 && head * 2 >= list.length) {
      w.list = list.slice(head);
      w.head = 0;
    }
    if (advanceTo < 0) return DONE;
    this.advance.advanceTo = advanceTo;
    return this.advance;
  }

  /** Events with at least one message awaiting PUBACK. */
  get events(): number {
    let n = 0;
    for (const w of this.spots.values()) n += w.list.length - w.head;
    return n;
  }

  /** The event sent first among those still awaiting a PUBACK (a spot's head entry is never done). */
  oldest(): { spot: string; id: number } | null {
    let found: { spot: string; id: number } | null = null;
    let order = Infinity;
    for (const [spot, w] of this.spots) {
      const head = w.list[w.head];
      if (head && head.order < order) {
        order = head.order;
        found = { spot, id: head.id };
      }
    }
    return found;
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
