// `tap --ingest`: what the tap reads goes to the running gateway's ingest route, one post per batch;
// an event leaves memory only once the gateway answered 200 (stored). Bounded; resent while the gateway is away.
import { concatBytes, createPbEncoder, encodeJsonEvent, JSON_CONTENT_TYPE, PB_CONTENT_TYPE, type Encoding, type SpotEventBody } from '../../protocol/index.js';

/** Events kept while the gateway does not take them; beyond, the oldest are dropped (counted, said once). */
export const MAX_PENDING_EVENTS = 10000;
/** Events per post. */
export const MAX_BATCH_EVENTS = 500;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
const POST_TIMEOUT_MS = 10000;
/** On stop, what is pending is posted for at most this long. */
export const DRAIN_MS = 3000;

export interface ForwardOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Bearer token for `auth.spots: token`. */
  token?: string;
  /** One line per state change (reachable / not, drops). */
  say: (line: string) => void;
  /** The reply's body (the spot's queued commands, in the spot's encoding), for the spot. */
  onReply: (body: Uint8Array) => void;
}

interface Pending {
  event: SpotEventBody;
  encoding: Encoding;
}

export class Forwarder {
  private readonly pending: Pending[] = [];
  private serial: number | undefined;
  private running = true;
  private wake: (() => void) | null = null;
  private down: string | null = null;
  private dropped = 0;
  private retryMs = RETRY_FIRST_MS;
  private readonly loop: Promise<void>;
  private drainUntil = 0;
  private pollDue = false;
  private backingOff = false;
  private pollEncoding: Encoding = 'json';
  /** Events the gateway acknowledged. */
  stored = 0;

  constructor(private readonly options: ForwardOptions) {
    this.loop = this.run();
  }

  setSerial(serial: number): void {
    this.serial = serial;
    this.kick();
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  push(event: SpotEventBody, encoding: Encoding): void {
    if (this.pending.length >= MAX_PENDING_EVENTS) {
      this.pending.shift();
      if (this.dropped++ === 0) this.options.say(`ingest: ${MAX_PENDING_EVENTS} events waiting for the gateway; dropping the oldest`);
    }
    this.pending.push({ event: { resource: event.resource, action: event.action, data: event.data }, encoding });
    this.kick();
  }

  /**
   * The stream's alive signal: not stored, but an empty post when nothing else is due, as a polling
   * spot makes: the gateway counts the spot heard (online) and answers with its queued commands.
   */
  alive(encoding: Encoding): void {
    this.pollDue = true;
    this.pollEncoding = encoding;
    this.kick();
  }

  /** Posts what is pending while the gateway takes it, for at most DRAIN_MS, then stops. */
  async stop(): Promise<void> {
    this.drainUntil = Date.now() + DRAIN_MS;
    this.running = false;
    this.kick();
    await this.loop;
  }

  /** Running, or stopping with events left, the gateway taking them, and drain time left. */
  private goOn(): boolean {
    if (this.running) return true;
    return this.serial !== undefined && this.pending.length > 0 && this.down === null && Date.now() < this.drainUntil;
  }

  private postTimeout(): number {
    return this.running ? POST_TIMEOUT_MS : Math.max(1, Math.min(POST_TIMEOUT_MS, this.drainUntil - Date.now()));
  }

  /** Wakes the loop from its idle wait; its backoff after a failure only stop() cuts short. */
  private kick(): void {
    if (this.backingOff && this.running) return;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.goOn()) {
      if (this.serial === undefined || (this.pending.length === 0 && !this.pollDue)) {
        await this.sleep(RETRY_MAX_MS);
        continue;
      }
      const batch = this.pending.length > 0 ? this.batch() : [];
      this.pollDue = false;
      const failure = await this.post(this.serial, batch, batch[0]?.encoding ?? this.pollEncoding);
      if (failure === null) {
        this.pending.splice(0, batch.length);
        this.stored += batch.length;
        this.retryMs = RETRY_FIRST_MS;
        if (this.down !== null) {
          this.options.say(`ingest: gateway ${this.options.url} takes events again (${this.pending.length} waiting)`);
          this.down = null;
        }
        if (this.dropped > 0) {
          this.options.say(`ingest: ${this.dropped} events were dropped while the gateway was away`);
          this.dropped = 0;
        }
        continue;
      }
      if (this.down !== failure) this.options.say(`ingest: gateway ${this.options.url}: ${failure}; keeping events, retrying`);
      this.down = failure;
      if (!this.running) break;
      this.backingOff = true;
      await this.sleep(this.retryMs);
      this.backingOff = false;
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    }
  }

  /** The leading events of one encoding (a post has one Content-Type). */
  private batch(): Pending[] {
    const encoding = this.pending[0]!.encoding;
    let n = 1;
    while (n < this.pending.length && n < MAX_BATCH_EVENTS && this.pending[n]!.encoding === encoding) n++;
    return this.pending.slice(0, n);
  }

  /** null when the gateway stored the batch, else why not. */
  private async post(serial: number, batch: Pending[], encoding: Encoding): Promise<string | null> {
    const timeoutMs = this.postTimeout();
    const pb = encoding === 'pb' ? createPbEncoder() : null;
    const body = concatBytes(batch.map((p) => (pb ? pb.encode(p.event) : encodeJsonEvent(p.event))));
    const type = encoding === 'pb' ? PB_CONTENT_TYPE : JSON_CONTENT_TYPE;
    const headers: Record<string, string> = { 'content-type': type, accept: type };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    try {
      const response = await fetch(`${this.options.url}/api/spots/${serial}/events/`, {
        method: 'POST',
        headers,
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const reply = new Uint8Array(await response.arrayBuffer());
      if (response.status !== 200) return `HTTP ${response.status} ${replyReason(reply)}`.trimEnd();
      if (reply.length > 0) this.options.onReply(reply);
      return null;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : `not reachable (${e.cause?.code ?? e.cause?.message ?? e.message})`;
    }
  }
}

/** The gateway's `reason` of a refusal, else the start of the body. */
function replyReason(reply: Uint8Array): string {
  const text = Buffer.from(reply).toString('utf8').slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { reason?: unknown };
    return typeof parsed.reason === 'string' ? parsed.reason : text;
  } catch {
    return text;
  }
}
