// Raw HTTP/1.1 over net.Socket from a chosen loopback address (127.0.0.0/8): one request per connection, or headers dribbled byte by byte.
import net from 'node:net';
import { within } from './wait.js';

/** An open connection from `localAddress`; what the gateway sends is collected until it closes. */
export class RawClient {
  readonly socket: net.Socket;
  private received = '';
  readonly closed: Promise<void>;
  private readonly connected: Promise<void>;

  constructor(port: number, localAddress = '127.0.0.1') {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d: Buffer) => (this.received += d.toString('latin1')));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  ready(): Promise<void> {
    return within(this.connected, 5000, 'a connection to the gateway');
  }

  /** What the gateway sent so far. */
  text(): string {
    return this.received;
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Resolves with all the gateway sent once it closed the connection (bounded). */
  async whenClosed(ms: number, what: string): Promise<string> {
    await within(this.closed, ms, what);
    return this.received;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Slow headers (slowloris): a request line, then one header byte every `everyMs` until the gateway
 * closes the connection or stop() is called.
 */
export class Dribbler extends RawClient {
  private timer: NodeJS.Timeout | null = null;

  constructor(port: number, localAddress = '127.0.0.1', everyMs = 100) {
    super(port, localAddress);
    this.write('POST /api/spots/9/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    // The pace of the slow client the tests are about, not a wait for a condition.
    this.timer = setInterval(() => this.write('a'), everyMs);
    void this.closed.then(() => this.stop());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  override close(): void {
    this.stop();
    super.close();
  }
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one whole response as RawClient collected it (Content-Length bodies). */
export function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response in ${JSON.stringify(text.slice(0, 200))}`);
  const [first, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(first!.split(' ')[1]), headers, body: text.slice(end + 4) };
}

/** GET `path` on a connection of its own (Connection: close) from `localAddress`. */
export async function rawGet(port: number, path: string, localAddress = '127.0.0.1'): Promise<RawAnswer> {
  const client = new RawClient(port, localAddress);
  try {
    await client.ready();
    client.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    return parseAnswer(await client.whenClosed(10000, `the answer to GET ${path}`));
  } finally {
    client.close();
  }
}

/** A line of the Prometheus text, e.g. metric(text, 'spot_gateway_x{a="b"}'); undefined when absent. */
export function metric(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}
