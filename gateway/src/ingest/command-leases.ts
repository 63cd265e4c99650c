// Which spots have a reply carrying commands being written: a spot's commands are in one reply at a time
// (docs/api.md, "One reply at a time").

interface Lease {
  ids: number[];
  /** Another reply of the spot was built without commands meanwhile. */
  blocked: boolean;
}

export class CommandLeases {
  private readonly held = new Map<string, Lease>();

  /** `freed(serial)`: a reply that held commands was settled after another reply of the spot went without them. */
  constructor(private readonly freed?: (serial: string) => void) {}

  /** Spots with a reply carrying commands being written. */
  get size(): number {
    return this.held.size;
  }

  /** True when no reply of `serial` carries commands now; false notes that this one goes without. */
  free(serial: string): boolean {
    const lease = this.held.get(serial);
    if (!lease) return true;
    lease.blocked = true;
    return false;
  }

  /** A reply carrying these commands was built; held until release(). */
  take(serial: string, ids: number[]): void {
    if (ids.length > 0) this.held.set(serial, { ids, blocked: false });
  }

  /** The reply carrying `ids` was written, cut off, or never started. */
  release(serial: string, ids: number[]): void {
    const lease = this.held.get(serial);
    if (!lease || lease.ids.length !== ids.length || lease.ids.some((id, i) => id !== ids[i])) return;
    this.held.delete(serial);
    if (lease.blocked) this.freed?.(serial);
  }
}
