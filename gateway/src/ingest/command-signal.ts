// "A command was queued for this spot": how a spot connected over WebSocket gets it at once.

/** Per-spot listeners; the command admission calls queued(), a spot's open connection listens. */
export class CommandSignal {
  private readonly listeners = new Map<string, Set<() => void>>();

  /** Calls `fn` each time a command is queued for `serial`; returns what stops it. */
  listen(serial: string, fn: () => void): () => void {
    let set = this.listeners.get(serial);
    if (!set) this.listeners.set(serial, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.listeners.get(serial) === set) this.listeners.delete(serial);
    };
  }

  /** A command was queued for `serial`: its listeners run now, in this turn. */
  queued(serial: string): void {
    const set = this.listeners.get(serial);
    if (!set) return;
    for (const fn of [...set]) fn();
  }

}
