// A value read at most once per turn of the event loop: one request (a scrape, /api/status, /healthz)
// reads the store's and the upstreams' status in several places, and each read costs queries and stats.

/** `read` runs at the first call of a turn; later calls in the same turn get its value. */
export function oncePerTurn<T>(read: () => T): () => T {
  let cached: { value: T } | null = null;
  return () => {
    if (cached === null) {
      cached = { value: read() };
      setImmediate(() => (cached = null));
    }
    return cached.value;
  };
}
