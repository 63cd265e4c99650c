// A real Mosquitto broker for integration tests: free port, temp config, bounded waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './wait.js';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface Mosquitto {
  port: number;
  /** `mqtt://127.0.0.1:<port>`, or `mqtts://` with `tls` */
  url: string;
  /** Graceful stop (SIGTERM), waits for exit. Idempotent. */
  stop(): Promise<void>;
  /** Start again on the same port, waits until it accepts connections. */
  restart(): Promise<void>;
  /** Hard stop (SIGKILL) and removal of the temp dir. Idempotent; safe in teardown. */
  kill(): Promise<void>;
  /** What the broker printed (for failure messages). */
  log(): string;
}

export interface MosquittoOptions {
  /** ava's `t`: registers kill() as teardown so the broker never outlives the test. */
  t?: { teardown(fn: () => unknown): void };
  /** Extra lines for mosquitto.conf. */
  extraConfig?: string;
  /** Keep sessions and queued messages across stop()/restart() (saved on SIGTERM). Default false. */
  persistence?: boolean;
  /** Bound for "accepts connections", default 5000 ms. */
  readyTimeoutMs?: number;
  /** The listener speaks TLS with this CA, certificate and key (files Mosquitto can read); `requireCertificate`: clients must present one signed by the CA. */
  tls?: { caFile: string; certFile: string; keyFile: string; requireCertificate?: boolean };
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO_BIN)) {
    throw new Error(
      `mosquitto not found at ${MOSQUITTO_BIN}: install the Debian package (apt-get install mosquitto) or set MOSQUITTO_BIN`,
    );
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 5000;
  const dir = mkdtempSync(path.join(tmpdir(), 'mosquitto-'));
  // Started as root, mosquitto drops to user "mosquitto", which must be able to write its persistence file.
  chmodSync(dir, 0o777);
  let port = 0;
  let child: ChildProcess | null = null;
  let output = '';
  let killed = false;

  const writeConfig = (): string => {
    const file = path.join(dir, 'mosquitto.conf');
    // Unlimited queue: a slow test consumer must not make the broker drop QoS 1 messages.
    const lines = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      options.persistence ? `persistence true\npersistence_location ${dir}/` : 'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'max_queued_messages 0',
      ...(options.tls
        ? [
            `cafile ${options.tls.caFile}`,
            `certfile ${options.tls.certFile}`,
            `keyfile ${options.tls.keyFile}`,
            `require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`,
          ]
        : []),
      options.extraConfig ?? '',
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };

  const launch = async (): Promise<void> => {
    const proc = spawn(MOSQUITTO_BIN, ['-c', writeConfig()], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    live.add(proc);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.once('exit', () => live.delete(proc));
    proc.stdout.on('data', (b: Buffer) => (output += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (output += b.toString()));
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    const ready = await waitFor(
      async () => (exitedEarly ? 'exited' : (await accepts(port)) && 'accepts'),
      readyTimeoutMs,
      'mosquitto to accept connections',
      30,
    ).catch(() => 'timed out');
    if (ready === 'accepts') return;
    proc.kill('SIGKILL');
    await exited;
    throw new Error(
      `mosquitto on 127.0.0.1:${port} did not accept connections within ${readyTimeoutMs} ms` +
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set when the process exits
        (exitedEarly ? ` (exited with ${proc.exitCode})` : '') +
        `; its output: ${output.trim() || '(none)'}`,
    );
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  // The free port may be taken between probe and bind: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    try {
      await launch();
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError !== undefined) {
    rmSync(dir, { recursive: true, force: true });
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what launch() threw
    throw lastError;
  }

  const broker: Mosquitto = {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    stop: () => halt('SIGTERM'),
    restart: async () => {
      if (killed) throw new Error('mosquitto was killed; start a new one');
      await halt('SIGTERM');
      await launch();
    },
    kill: async () => {
      if (killed) return;
      killed = true;
      await halt('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
  options.t?.teardown(() => broker.kill());
  return broker;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
