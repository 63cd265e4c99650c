// Load generator: N spots posting chunked JSON event streams, as real spots do
// (one post per window, events written as chunks, keep-alive). Counts events whose
// post got a 200: those are acknowledged, i.e. stored.
import net from 'node:net';

export interface LoadOptions {
  host: string;
  port: number;
  spots: number;
  durationMs: number;
  /** Total events per second across all spots; 0 = as fast as the server takes. */
  rate: number;
  postWindowMs: number;
  firstSerial: number;
  /** Adds "bench_t" (ms, fractional) to each event so a consumer can measure latency. */
  stampEvents: boolean;
}

export interface LoadResult {
  sentEvents: number;
  ackedEvents: number;
  failedPosts: number;
  elapsedMs: number;
}

const ITEM_CODES = Array.from({ length: 500 }, (_, i) => `e2801170000002${(0x0a1b2c3d00 + i).toString(16).padStart(10, '0')}`);
const PROXIMITIES = ['immediate', 'near', 'far'];

/** A realistic mix: mostly presences, some hits, now and then a config update. */
export function makeEvent(serial: number, n: number, stamp: boolean): string {
  const code = ITEM_CODES[(serial * 7 + n) % ITEM_CODES.length]!;
  const t = new Date(1_780_000_000_000 + n * 10).toISOString();
  const extra = stamp ? `,"bench_t":${(performance.timeOrigin + performance.now()).toFixed(3)}` : '';
  const k = n % 20;
  if (k === 19) return `["config","update",{"rfid_power_dbm":${20 + (n % 10)}${extra}}]\n\n`;
  if (k >= 15) {
    return `["hit","create",{"time":"${t}","item_code":"${code}","item_codetype":"EPC Gen2","antenna":${1 + (n % 4)},"signal_strength":${-400 - (n % 300)}${extra}}]\n\n`;
  }
  const action = k % 3 === 0 ? 'create' : k % 3 === 1 ? 'update' : 'delete';
  return `["presence","${action}",{"item_code":"${code}","item_codetype":"EPC Gen2","time_started":"${t}","time_last":"${t}","proximity":"${PROXIMITIES[n % 3]}","hold_delay_s":4${extra}}]\n\n`;
}

function chunk(body: string): Buffer {
  const payload = Buffer.from(body);
  return Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n')]);
}

class SimulatedSpot {
  private socket!: net.Socket;
  private n = 0;
  /** A post's request line and headers are written (a chunk before them is garbage to the server). */
  private posting = false;
  private inPost = 0;
  private postStarted = 0;
  private responseBuf = '';
  private waitingResponse = false;
  private stopped = false;
  private credit = 0;

  constructor(
    private readonly serial: number,
    private readonly opts: LoadOptions,
    private readonly result: LoadResult,
    private readonly onClosed: () => void,
  ) {}

  start(): void {
    this.socket = net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => this.beginPost());
    this.socket.on('data', (d) => this.onData(d));
    this.socket.on('error', (e) => { if (process.env.LG_DEBUG) console.error(this.serial, e.message); });
    this.socket.on('close', () => {
      if (this.waitingResponse) this.result.failedPosts++;
      this.onClosed();
    });
  }

  /** Paced mode: grant n more events to send. */
  grant(n: number): void {
    this.credit += n;
    if (this.posting && !this.waitingResponse && this.socket.writable) this.pump();
  }

  stop(): void {
    this.stopped = true;
    // A paced spot may be waiting for credit: end its post now rather than at the window's end.
    if (this.posting && !this.waitingResponse && this.socket.writable) this.endPost();
  }

  private beginPost(): void {
    if (this.stopped) {
      this.socket.end();
      return;
    }
    this.inPost = 0;
    this.posting = true;
    this.postStarted = Date.now();
    this.socket.write(
      `POST /api/spots/${this.serial}/events/ HTTP/1.1\r\nHost: ${this.opts.host}\r\nUser-Agent: spot/bench\r\n` +
        'Transfer-Encoding: chunked\r\nAccept: text/x-intellifi-events\r\nContent-Type: text/x-intellifi-events\r\nCache-Control: no-cache\r\n\r\n',
    );
    this.pump();
  }

  private pump(): void {
    if (this.waitingResponse) return;
    const paced = this.opts.rate > 0;
    while (true) {
      if (this.stopped || Date.now() - this.postStarted >= this.opts.postWindowMs) {
        this.endPost();
        return;
      }
      let count = paced ? Math.min(this.credit, 50) : 20;
      if (count <= 0) {
        setTimeout(() => this.pump(), Math.max(1, this.opts.postWindowMs - (Date.now() - this.postStarted))).unref();
        return;
      }
      let body = '';
      for (let i = 0; i < count; i++) body += makeEvent(this.serial, this.n++, this.opts.stampEvents);
      if (paced) this.credit -= count;
      this.inPost += count;
      this.result.sentEvents += count;
      const ok = this.socket.write(chunk(body));
      if (paced && this.credit <= 0) return;
      if (!ok) {
        this.socket.once('drain', () => this.pump());
        return;
      }
      if (!paced) {
        setImmediate(() => this.pump());
        return;
      }
      count = 0;
    }
  }

  private endPost(): void {
    this.posting = false;
    this.waitingResponse = true;
    this.socket.write('0\r\n\r\n');
  }

  private onData(d: Buffer): void {
    this.responseBuf += d.toString('latin1');
    // Responses are small: status line, headers, and a (usually empty) body.
    const headerEnd = this.responseBuf.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const head = this.responseBuf.slice(0, headerEnd);
    const rest = this.responseBuf.slice(headerEnd + 4);
    const status = Number(head.split(' ')[1]);
    if (process.env.LG_DEBUG && status !== 200) console.error(JSON.stringify(this.responseBuf.slice(0, 300)));
    const len = /content-length:\s*(\d+)/i.exec(head);
    let bodyDone: number;
    if (len) {
      const l = Number(len[1]);
      if (rest.length < l) return;
      bodyDone = headerEnd + 4 + l;
    } else if (/transfer-encoding:\s*chunked/i.test(head)) {
      const end = rest.indexOf('0\r\n\r\n');
      if (end < 0) return;
      bodyDone = headerEnd + 4 + end + 5;
    } else bodyDone = headerEnd + 4;
    this.responseBuf = this.responseBuf.slice(bodyDone);
    this.waitingResponse = false;
    if (status === 200) this.result.ackedEvents += this.inPost;
    else this.result.failedPosts++;
    this.beginPost();
  }
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { sentEvents: 0, ackedEvents: 0, failedPosts: 0, elapsedMs: 0 };
  let open = opts.spots;
  const allClosed = new Promise<void>((resolve) => {
    const spots: SimulatedSpot[] = [];
    const onClosed = () => {
      if (--open === 0) resolve();
    };
    for (let i = 0; i < opts.spots; i++) spots.push(new SimulatedSpot(opts.firstSerial + i, opts, result, onClosed));
    const t0 = Date.now();
    for (const s of spots) s.start();
    let pacer: NodeJS.Timeout | undefined;
    if (opts.rate > 0) {
      // Credit follows the clock (a late timer does not lower the rate). The spots take turns
      // across each 10 ms, one group per ms, instead of all writing in the same millisecond:
      // real spots are not synchronised, and 200 chunks at once are a burst of several ms.
      const groups = 10;
      const perSpotPerMs = opts.rate / 1000 / opts.spots;
      const granted = new Array<number>(groups).fill(0);
      pacer = setInterval(() => {
        const elapsed = Date.now() - t0;
        for (let g = 0; g < groups; g++) {
          const due = Math.floor(Math.max(0, elapsed - g) * perSpotPerMs);
          const whole = due - granted[g]!;
          if (whole <= 0) continue;
          granted[g] = due;
          for (let i = g; i < spots.length; i += groups) spots[i]!.grant(whole);
        }
      }, 1);
    }
    setTimeout(() => {
      result.elapsedMs = Date.now() - t0;
      if (pacer) clearInterval(pacer);
      for (const s of spots) s.stop();
    }, opts.durationMs);
    // Bound the wait for the last posts' responses.
    setTimeout(() => resolve(), opts.durationMs + 15_000).unref();
  });
  await allClosed;
  return result;
}
