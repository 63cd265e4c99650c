// The SMP client: one request at a time over an injected port, matched to its response by
// sequence number, group and command; each try bounded by a timeout, lost answers retried.
import { encodeMessage, decodeMessage, describeError, responseError, MGMT_ERR_TOO_NEW, OP, SMP_V1, SMP_V2, type SmpBody, type SmpHeader } from './message.js';
import { PbStreamDemux, type DemuxEvent } from './pb-demux.js';
import { DEFAULT_LINE_LENGTH, encodePacket, SerialFrameReader } from './serial-frame.js';

/** What the client needs of a serial port (a SerialPort, a Duplex, or a test's in-memory pair). */
export interface SmpPort {
  write(data: Buffer): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SmpClientOptions {
  /** How long one try waits for its answer (default 2000 ms). */
  timeoutMs?: number;
  /** Tries per request before giving up (default 3). */
  tries?: number;
  /** Serial line limit (default 127, the transport's). */
  lineLength?: number;
  /** Header version to send: SMP v2 (1, default) falls back to 0 when the device says it is too new. */
  version?: number;
  /**
   * What else the UART carries: 'lines' (console, JSON spot protocol: SMP frames at line starts,
   * the default) or 'pb' (the PB spot protocol: SMP frames at PB frame boundaries).
   */
  stream?: 'lines' | 'pb';
  /** Lines on the UART that are not SMP (the spot's console and JSON protocol stream). */
  onConsole?: (line: Buffer) => void;
  /** PB stream bytes, in order, in 'pb' mode. */
  onStream?: (bytes: Buffer) => void;
  /** Frames and messages thrown away, with the reason. */
  onDropped?: (reason: string) => void;
  timers?: Timers;
}

export type SmpFailureReason = 'no-answer' | 'device-error' | 'bad-response' | 'closed';

export interface SmpFailure {
  ok: false;
  reason: SmpFailureReason;
  detail: string;
  /** The device's result code and group, for device-error. */
  rc?: number;
  group?: number | null;
}

export type SmpResult<T> = { ok: true; value: T } | SmpFailure;

export interface SmpClientStats {
  requests: number;
  retries: number;
  /** Frames or messages dropped (CRC, length, CBOR). */
  dropped: number;
  /** Well-formed responses that answered no waiting request (late duplicates). */
  strays: number;
}

type Waiting = { seq: number; group: number; id: number; op: number; resolve: (body: SmpBody | null) => void };

export class SmpClient {
  readonly stats: SmpClientStats = { requests: 0, retries: 0, dropped: 0, strays: 0 };
  private readonly reader: { push(chunk: Uint8Array): void };
  private readonly listener = (chunk: Buffer): void => this.reader.push(chunk);
  private readonly timeoutMs: number;
  private readonly tries: number;
  private readonly lineLength: number;
  private readonly timers: Timers;
  private version: number;
  private seq = 0;
  private waiting: Waiting | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly port: SmpPort,
    private readonly options: SmpClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.tries = Math.max(1, options.tries ?? 3);
    this.lineLength = options.lineLength ?? DEFAULT_LINE_LENGTH;
    this.version = options.version ?? SMP_V2;
    this.timers = options.timers ?? realTimers;
    const emit = (event: DemuxEvent): void => this.onEvent(event);
    this.reader = options.stream === 'pb' ? new PbStreamDemux(emit) : new SerialFrameReader(emit);
    port.on('data', this.listener);
  }

  /** Sends one request (queued behind any other) and resolves with the response's CBOR map. */
  request(op: 'read' | 'write', group: number, id: number, body: SmpBody = {}, options: { tries?: number } = {}): Promise<SmpResult<SmpBody>> {
    const tries = Math.max(1, options.tries ?? this.tries);
    const run = this.queue.then(() => this.exchange(op === 'read' ? OP.read : OP.write, group, id, body, tries, true));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops listening to the port; requests still queued fail with `closed`. */
  close(): void {
    this.closed = true;
    this.port.off('data', this.listener);
    this.waiting?.resolve(null);
  }

  private async exchange(op: number, group: number, id: number, body: SmpBody, tries: number, mayDowngrade: boolean): Promise<SmpResult<SmpBody>> {
    if (this.closed) return { ok: false, reason: 'closed', detail: 'the SMP client was closed' };
    this.stats.requests++;
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    const header: SmpHeader = { op: op as SmpHeader['op'], version: this.version, flags: 0, group, seq, id };
    const frame = encodePacket(encodeMessage(header, body), this.lineLength);
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (attempt > 1) this.stats.retries++;
      const response = await this.send(frame, { seq, group, id, op: op + 1 });
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may have run while this awaited
      if (this.closed) return { ok: false, reason: 'closed', detail: 'the SMP client was closed' };
      if (response === null) continue;
      const error = responseError(response);
      if (error && error.rc === MGMT_ERR_TOO_NEW && error.group === null && this.version === SMP_V2 && mayDowngrade) {
        this.version = SMP_V1;
        return this.exchange(op, group, id, body, tries, false);
      }
      if (error) return { ok: false, reason: 'device-error', detail: `the device refused group ${group} command ${id}: ${describeError(error)}`, ...error };
      return { ok: true, value: response };
    }
    const each = `${this.timeoutMs} ms each`;
    return { ok: false, reason: 'no-answer', detail: `no answer to group ${group} command ${id} after ${tries} ${tries === 1 ? 'try' : 'tries'} (${each})` };
  }

  private send(frame: Buffer, expect: Omit<Waiting, 'resolve'>): Promise<SmpBody | null> {
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => finish(null), this.timeoutMs);
      const finish = (body: SmpBody | null): void => {
        if (this.waiting !== waiting) return;
        this.waiting = null;
        this.timers.clearTimeout(timer);
        resolve(body);
      };
      const waiting: Waiting = { ...expect, resolve: finish };
      this.waiting = waiting;
      try {
        this.port.write(frame);
      } catch (err) {
        // A port that throws on write (closed under us) is a try without an answer.
        this.drop(`the port refused the write: ${(err as Error).message}`);
        finish(null);
      }
    });
  }

  private onEvent(event: DemuxEvent): void {
    if (event.kind === 'stream') {
      this.options.onStream?.(event.bytes);
      return;
    }
    if (event.kind === 'console') {
      this.options.onConsole?.(event.line);
      return;
    }
    if (event.kind === 'dropped') {
      this.drop(event.reason);
      return;
    }
    const decoded = decodeMessage(event.body);
    if (!decoded.ok) {
      this.drop(decoded.reason);
      return;
    }
    const { header, body } = decoded.message;
    const w = this.waiting;
    if (w && header.seq === w.seq && header.group === w.group && header.id === w.id && header.op === w.op) {
      w.resolve(body);
      return;
    }
    this.stats.strays++;
  }

  private drop(reason: string): void {
    this.stats.dropped++;
    this.options.onDropped?.(reason);
  }
}
