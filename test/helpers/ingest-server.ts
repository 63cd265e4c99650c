// The ingest route alone on a free port, over a given store (no API, no upstream): for tests
// that control the store or the drain themselves. Closed, with the store, at teardown.
import type http from 'node:http';
import { silentLogger } from '../../gateway/src/log.js';
import { SpotIngest } from '../../gateway/src/ingest/index.js';
import type { Store } from '../../gateway/src/store/types.js';
import type { HttpDrain } from '../../gateway/src/transports/drain.js';
import { createHttpTransport } from '../../gateway/src/transports/http.js';
import { ingestRoute, type IngestRouteOptions } from '../../gateway/src/transports/ingest-route.js';
import type { Teardown } from './gateway.js';

export interface IngestServerOptions {
  /** The store the ingest appends to; `closeStore` is the one closed at teardown (default: the same). */
  store: Store;
  closeStore?: Store;
  drain?: HttpDrain;
  route?: Partial<Pick<IngestRouteOptions, 'maxPendingAppends' | 'maxInFlightEvents' | 'idleTimeoutMs'>>;
}

export async function startIngestServer(t: Teardown, o: IngestServerOptions): Promise<{ port: number; ingest: SpotIngest; server: http.Server }> {
  const ingest = new SpotIngest({ store: o.store, now: Date.now, logger: silentLogger(), maxEventBytes: 65536, maxRejectedPerPost: 100, heard: () => {} });
  const { app } = createHttpTransport({
    drain: o.drain,
    rawRoutes: [ingestRoute({ ingest, idleTimeoutMs: 5000, logger: silentLogger(), drain: o.drain, ...o.route })],
    registerApi: () => {},
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    app.server.closeAllConnections();
    await app.close();
    await (o.closeStore ?? o.store).close();
  });
  return { port: (app.server.address() as { port: number }).port, ingest, server: app.server };
}

/** The real store, with appends held back while `hold` is set (a disk that stalls). */
export function heldStore(store: Store): { store: Store; hold: boolean; release(): void } {
  const held: Array<() => void> = [];
  const gate = {
    hold: true,
    release(): void {
      gate.hold = false;
      for (const run of held.splice(0)) run();
    },
    store: new Proxy(store, {
      get(target, key, receiver) {
        if (key !== 'appendWith') return Reflect.get(target, key, receiver);
        return (...args: Parameters<Store['appendWith']>) => {
          if (gate.hold) held.push(() => target.appendWith(...args));
          else target.appendWith(...args);
        };
      },
    }),
  };
  return gate;
}
