// The gateway as a child process for the benchmarks, and the broker settings they use.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The broker as docs/mqtt.md advises for a site: Mosquitto's default of 20 in-flight QoS 1
 * messages makes the forwarder round-trip bound (~6k/s), and Nagle's algorithm holds PUBACKs
 * and deliveries back by up to 40 ms. */
export const SITE_BROKER_CONFIG = 'max_inflight_messages 0\nset_tcp_nodelay true';

// Extra node arguments for the gateway process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function getJson(port: number, p: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}

/** `env`: extra configuration, e.g. { SPOT_GATEWAY_BUFFER_FORWARD: 'after-commit' }. */
export async function startGateway(mqttUrl: string, env: Record<string, string> = {}): Promise<{ port: number; child: ChildProcess; dataDir: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-gw-'));
  const child = spawn(process.execPath, [...GATEWAY_NODE_ARGS, 'gateway/bin/spot-gateway.js', 'run'], {
    env: {
      ...process.env,
      SPOT_GATEWAY_HTTP_PORT: String(port),
      SPOT_GATEWAY_HTTP_HOST: '127.0.0.1',
      SPOT_GATEWAY_DATA_DIR: dataDir,
      SPOT_GATEWAY_MQTT_URL: mqttUrl,
      SPOT_GATEWAY_LOG_LEVEL: 'warn',
      // The bench reads /api/status and /metrics without credentials.
      SPOT_GATEWAY_AUTH_API: 'off',
      // Every spot of the load generator connects from 127.0.0.1 (BENCH_SPOTS may pass the default 256).
      SPOT_GATEWAY_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0',
      // The benches measure what the gateway can take, not its limits (docs/limits.md): the buckets are
      // kept (their cost is in the figures) with rates no load here reaches.
      SPOT_GATEWAY_LIMITS_SPOT_EVENTS_PER_S: '100000000',
      SPOT_GATEWAY_LIMITS_SPOT_EVENTS_BURST: '100000000',
      SPOT_GATEWAY_LIMITS_API_REQUESTS_PER_S: '1000000',
      SPOT_GATEWAY_LIMITS_API_REQUESTS_BURST: '1000000',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await getJson(port, '/healthz');
      return { port, child, dataDir };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  child.kill('SIGKILL');
  throw new Error('gateway did not answer /healthz within 20 s');
}

export async function stopGateway(gw: { child: ChildProcess; dataDir: string }): Promise<void> {
  const exited = new Promise((r) => gw.child.once('exit', r));
  gw.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  gw.child.kill('SIGKILL');
  rmSync(gw.dataDir, { recursive: true, force: true });
}

