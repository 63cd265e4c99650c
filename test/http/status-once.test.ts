// /api/status and /healthz read the store's status once per request, the forwarder's lag included.
import test from 'ava';
import type { StoreStatus } from '../../gateway/src/store/index.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { api, startTestGateway } from '../helpers/gateway.js';

test('one request to /api/status or /healthz computes the store status once', async (t) => {
  const broker = await startMosquitto({ t });
  const gw = await startTestGateway(t, { config: { mqtt: { url: broker.url } } });
  const store = gw.running.store;
  const real = store.status.bind(store);
  let reads = 0;
  store.status = (): StoreStatus => {
    reads++;
    return real();
  };
  for (const path of ['/api/status', '/healthz']) {
    reads = 0;
    const { status } = await api<unknown>(gw.url, path);
    t.is(status, 200, path);
    t.is(reads, 1, path);
  }
});
