// A spot over WebSocket for the tests: the `ws` client, every message it gets kept, bounded waits on them.
import type http from 'node:http';
import WebSocket from 'ws';
import { waitFor, within } from '../helpers/gateway.js';

export interface Ack {
  events: number;
  boot?: number;
  seq?: number;
}

export interface WsSpotOptions {
  protocols?: string[];
  headers?: Record<string, string>;
  /** Answer pings (default true). */
  autoPong?: boolean;
  /** wss:// trusting this CA certificate (PEM). */
  ca?: string;
}

/** An upgrade answered without 101: its status, headers and JSON body. */
export interface Refused {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error: string; reason: string };
}

export class WsSpot {
  readonly acks: Ack[] = [];
  /** Binary messages (commands). */
  readonly binary: Buffer[] = [];
  /** Text messages other than acks ({error, reason}). */
  readonly errors: Array<{ error: string; reason: string }> = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.binary.push(data);
        return;
      }
      const parsed = JSON.parse(data.toString()) as { ack?: Ack; error?: string; reason?: string };
      if (parsed.ack) this.acks.push(parsed.ack);
      else this.errors.push(parsed as { error: string; reason: string });
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      }),
    );
  }

  /** Opens /api/spots/<serial>/events/ on the gateway; rejects with the answer when it is not a 101. */
  static open(port: number, serial: number | string, options: WsSpotOptions = {}): Promise<WsSpot> {
    const scheme = options.ca === undefined ? 'ws' : 'wss';
    const ws = new WebSocket(`${scheme}://127.0.0.1:${port}/api/spots/${serial}/events/`, options.protocols ?? ['spot-json.v1'], {
      headers: options.headers,
      ca: options.ca,
      autoPong: options.autoPong ?? true,
      perMessageDeflate: false,
    });
    return within(
      new Promise<WsSpot>((resolve, reject) => {
        ws.once('open', () => resolve(new WsSpot(ws)));
        ws.once('unexpected-response', (_req, res: http.IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const refused: Refused = { status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString()) };
            reject(Object.assign(new Error(`upgrade refused: ${refused.status}`), { refused }));
          });
        });
        ws.once('error', reject);
      }),
      5000,
      `WebSocket of spot ${serial} to open`,
    );
  }

  /** The refusal an upgrade met (fails when it opened). */
  static async refused(port: number, serial: number | string, options: WsSpotOptions = {}): Promise<Refused> {
    try {
      const spot = await WsSpot.open(port, serial, options);
      spot.ws.terminate();
    } catch (err) {
      const refused = (err as { refused?: Refused }).refused;
      if (refused) return refused;
      throw err;
    }
    throw new Error(`spot ${serial}: the upgrade was accepted`);
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  send(data: string | Uint8Array, binary = true): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve())));
  }

  /** The first acknowledgement covering at least `events` messages. */
  waitAck(events: number, ms = 5000): Promise<Ack> {
    return waitFor(() => this.acks.find((a) => a.events >= events), ms, () => `an ack of ${events} events (acks so far: ${JSON.stringify(this.acks)})`, 5);
  }

  waitBinary(count: number, ms = 5000): Promise<Buffer[]> {
    return waitFor(() => this.binary.length >= count && this.binary, ms, () => `${count} binary message(s) (got ${this.binary.length})`, 5);
  }

  waitClose(ms = 5000): Promise<number> {
    return within(this.closed, ms, 'the WebSocket to close');
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}
