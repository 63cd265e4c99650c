// Test helpers: the gateway in-process or as a child process, and raw chunked posts over net.Socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type DeepPartial, type GatewayConfig } from '../../gateway/src/config/index.js';
import { silentLogger, type GatewayLogger } from '../../gateway/src/log.js';
import { startGateway, type RunningGateway } from '../../gateway/src/main.js';
import { waitFor, within } from './wait.js';

export { waitFor, within };

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO_ROOT, 'gateway/bin/spot-gateway.js');

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export function tempDir(t: Teardown | undefined, prefix = 'spot-gateway-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t?.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// --- in-process ---------------------------------------------------------------

export interface TestGateway {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  dataDir: string;
  config: GatewayConfig;
  running: RunningGateway;
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  config?: DeepPartial<GatewayConfig>;
  /** Reuse a data dir (restart tests); default a fresh temp dir removed at teardown. */
  dataDir?: string;
  logger?: GatewayLogger;
}

/** startGateway on 127.0.0.1:0 with a temp data dir; stopped at teardown. */
export async function startTestGateway(t: Teardown, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? tempDir(t);
  const overrides = options.config ?? {};
  const config = defaultConfig({
    ...overrides,
    http: { host: '127.0.0.1', ...overrides.http, port: overrides.http?.port ?? 0 },
    data_dir: dataDir,
    gateway: { id: 'test-gateway', ...overrides.gateway },
    log: { level: 'silent', ...overrides.log },
    // The tests of the other parts call the API without credentials: test/auth/ turns it on.
    auth: { api: 'off', ...overrides.auth },
  });
  const running = await startGateway(config, { logger: options.logger ?? silentLogger() });
  t.teardown(() => running.stop());
  return { port: running.port, url: `http://127.0.0.1:${running.port}`, dataDir, config, running, stop: () => running.stop() };
}

// --- child process ------------------------------------------------------------

export interface ChildGateway {
  port: number;
  url: string;
  child: ChildProcess;
  /** Exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface ChildOptions {
  /** Extra env (SPOT_GATEWAY_*); the port defaults to 0 and the host to 127.0.0.1. */
  env?: Record<string, string>;
  args?: string[];
  cwd?: string;
  readyTimeoutMs?: number;
}

/**
 * The bound on a gateway child's start or short run: a cold start under V8 coverage (make test), beside
 * other tests' children on two cores, has taken over 10 s. A bound, not a wait.
 */
export const CHILD_START_BOUND_MS = 30000;

/** Runs `node gateway/bin/spot-gateway.js <args>` and collects its output (no wait for readiness). */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): {
  child: ChildProcess;
  exited: Promise<number | string>;
  stdout: () => string;
  stderr: () => string;
} {
  if (!existsSync(path.join(REPO_ROOT, 'gateway/dist/cli/index.js'))) {
    throw new Error('gateway/dist is not built: run `make build` (or npx tsc -p tsconfig.json) before the child-process tests');
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** `spot-gateway run` as a child; resolves once it logged the port it listens on. Killed at teardown. */
export async function spawnGateway(t: Teardown, options: ChildOptions = {}): Promise<ChildGateway> {
  const run = runCli(options.args ?? ['run'], {
    cwd: options.cwd,
    // Log level info at least: the port is read from the "listening" line.
    // auth.api off unless a test sets it: the tests of the other parts call the API without credentials.
    env: { SPOT_GATEWAY_HTTP_PORT: '0', SPOT_GATEWAY_HTTP_HOST: '127.0.0.1', SPOT_GATEWAY_GATEWAY_ID: 'test-gateway', SPOT_GATEWAY_AUTH_API: 'off', ...options.env, SPOT_GATEWAY_LOG_LEVEL: 'info' },
  });
  t.teardown(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });
  const ready = waitFor(
    () => {
      for (const line of run.stdout().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { port?: number; msg?: string };
          if (typeof entry.port === 'number' && entry.msg?.startsWith('listening')) return entry.port;
        } catch {
          // A partial line: read again later.
        }
      }
      return run.child.exitCode !== null ? -1 : undefined;
    },
    options.readyTimeoutMs ?? CHILD_START_BOUND_MS,
    'the gateway child to listen',
  );
  const port = await ready;
  if (port < 0) throw new Error(`gateway child exited early (${run.child.exitCode}): ${run.stderr()}${run.stdout()}`);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child: run.child,
    exited: run.exited,
    stdout: run.stdout,
    stderr: run.stderr,
    kill: (signal = 'SIGTERM') => {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
      return within(run.exited, 10000, `gateway child to exit after ${signal}`);
    },
  };
}

// --- raw HTTP over a socket -----------------------------------------------------

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Incremental HTTP/1.1 response reader (Content-Length, chunked, or until close). */
class ResponseReader {
  private buf = Buffer.alloc(0);
  private closed = false;
  private waiters: Array<() => void> = [];

  feed(data: Buffer): void {
    this.buf = Buffer.concat([this.buf, data]);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private more(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`connection closed before a full response (have ${this.buf.length} bytes)`));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async next(): Promise<RawResponse> {
    let headEnd: number;
    while ((headEnd = this.buf.indexOf('\r\n\r\n')) < 0) await this.more();
    const head = this.buf.subarray(0, headEnd).toString('latin1').split('\r\n');
    this.buf = this.buf.subarray(headEnd + 4);
    const status = Number(head[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body: Buffer;
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      while (this.buf.length < length) await this.more();
      body = this.buf.subarray(0, length);
      this.buf = this.buf.subarray(length);
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        let lineEnd: number;
        while ((lineEnd = this.buf.indexOf('\r\n')) < 0) await this.more();
        const size = parseInt(this.buf.subarray(0, lineEnd).toString('latin1'), 16);
        while (this.buf.length < lineEnd + 2 + size + 2) await this.more();
        parts.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        this.buf = this.buf.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      while (!this.closed) await this.more().catch(() => undefined);
      body = this.buf;
      this.buf = Buffer.alloc(0);
    }
    return { status, headers, body };
  }
}

/** One keep-alive TCP connection to the gateway on which posts are written byte by byte; over TLS when `tlsOptions` are given. */
export class SpotConnection {
  readonly socket: net.Socket;
  private readonly reader = new ResponseReader();
  private readonly connected: Promise<void>;

  constructor(port: number, host = '127.0.0.1', tlsOptions?: tls.ConnectionOptions) {
    this.socket = tlsOptions ? tls.connect({ port, host, ...tlsOptions }) : net.connect({ port, host });
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once(tlsOptions ? 'secureConnect' : 'connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d: Buffer) => this.reader.feed(d));
    this.socket.on('close', () => this.reader.close());
    this.socket.on('error', () => this.reader.close());
  }

  /** Resolves once connected (after the handshake over TLS), bounded. */
  ready(): Promise<void> {
    return within(this.connected, 5000, 'connect to the gateway');
  }

  /** The request line and headers of a chunked post (`path` overrides the events path). */
  async startPost(serial: string | number, options: { headers?: Record<string, string>; path?: string; method?: string } = {}): Promise<void> {
    await within(this.connected, 5000, 'connect to the gateway');
    const headers: Record<string, string> = {
      Host: '127.0.0.1',
      'User-Agent': 'spot/test-1.0',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache',
      ...options.headers,
    };
    const lines = [`${options.method ?? 'POST'} ${options.path ?? `/api/spots/${serial}/events/`} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    await this.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  }

  /** One HTTP chunk holding exactly these bytes. */
  chunk(bytes: Uint8Array | string): Promise<void> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
    if (data.length === 0) return Promise.resolve();
    return this.write(Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]));
  }

  /** The zero-length chunk: the post ends. */
  endPost(): Promise<void> {
    return this.write(Buffer.from('0\r\n\r\n'));
  }

  /** A whole post in one chunk on this connection, and its response. */
  async post(serial: string | number, body: Uint8Array | string, options: { headers?: Record<string, string> } = {}): Promise<RawResponse> {
    await this.startPost(serial, options);
    await this.chunk(body);
    await this.endPost();
    return this.response();
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** The next response on this connection, bounded. */
  response(timeoutMs = 10000): Promise<RawResponse> {
    return within(this.reader.next(), timeoutMs, 'a response from the gateway');
  }

  /** Resolves when the server closed the connection (bounded). */
  closedByServer(timeoutMs = 10000): Promise<void> {
    if (this.socket.destroyed || this.socket.readableEnded) return Promise.resolve();
    return within(new Promise<void>((resolve) => this.socket.once('close', () => resolve())), timeoutMs, 'the gateway to close the connection');
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface PostOptions {
  headers?: Record<string, string>;
  path?: string;
  timeoutMs?: number;
}

/** One whole chunked post on a fresh connection: each element of `chunks` is one HTTP chunk. */
export async function postChunks(port: number, serial: string | number, chunks: Array<Uint8Array | string>, options: PostOptions = {}): Promise<RawResponse> {
  const conn = new SpotConnection(port);
  try {
    await conn.startPost(serial, { headers: options.headers, path: options.path });
    for (const chunk of chunks) await conn.chunk(chunk);
    await conn.endPost();
    return await conn.response(options.timeoutMs);
  } finally {
    conn.close();
  }
}

export const JSON_EVENTS = { 'Content-Type': 'text/x-intellifi-events', Accept: 'text/x-intellifi-events' };
export const PB_EVENTS = { 'Content-Type': 'application/x-intellifi-events-pb', Accept: 'application/x-intellifi-events-pb' };

/** GET/POST JSON against the API with fetch, bounded (10 s unless timeoutMs). */
export async function api<T = unknown>(
  baseUrl: string,
  pathAndQuery: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${pathAndQuery}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 10000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (e.g. /metrics): the text itself.
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** The JSON log lines a child gateway has written so far (a line still being written is left out). */
export function jsonLogLines<T>(gw: { stdout(): string }): T[] {
  const lines: T[] = [];
  for (const line of gw.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as T);
    } catch {
      // A line still being written.
    }
  }
  return lines;
}
