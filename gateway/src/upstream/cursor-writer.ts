// Cursor advances, coalesced: all acks of one turn of the event loop become one write per spot.
import { describe } from './options.js';
import type { ForwardSource } from './source.js';

export class CursorWriter {
  private readonly dirty = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly source: ForwardSource,
    private readonly upstream: string,
    /** A write failed: not fatal, those events go out again later with the same event_id. */
    private readonly onError: (reason: string, spot: string) => void,
  ) {}

  advance(spot: string, id: number): void {
    this.dirty.set(spot, id);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  flush(): void {
    if (this.dirty.size === 0) return;
    const entries = [...this.dirty];
    this.dirty.clear();
    for (const [spot, id] of entries) {
      try {
        this.source.advanceCursor(this.upstream, spot, id);
      } catch (err) {
        this.onError(`saving the cursor of spot ${spot} at ${id} failed: ${describe(err)}`, spot);
      }
    }
  }
}
