// `spot-gateway tap HOST[:PORT]`: reads a spot's telnet stream with the gateway's own decoders, prints
// each event, and with --ingest posts them to the running gateway; reconnects with a bounded backoff.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { canSniff, concatBytes, createJsonDecoder, createPbDecoder, sniffEncoding, type Encoding, type SpotEvent, type StreamDecoder } from '../../protocol/index.js';
import type { CliIo } from '../index.js';
import { gatewayBase } from '../ops-options.js';
import { eventLine, wantColour } from './format.js';
import { Forwarder } from './forward.js';

export const TAP_HELP = `Usage: spot-gateway tap HOST[:PORT] [--json] [--ingest [--url URL] [--token T]] [--serial S]

Connects to a spot's telnet stream (port 23 unless given), prints one line per
event (time, serial, event, key fields; colours on a terminal unless NO_COLOR
is set) and reconnects when the connection drops (0.5 s, doubling, at most
10 s), one line on stderr per state change. Ctrl-C ends it.

Options:
      --json         one JSON object per event: time, serial, resource, action, data
      --ingest       post the events to the running gateway (its ingest route) as the
                     spot would; kept in memory (at most 10000) until the gateway stored them
      --serial S     the spot's serial (default: spot_id of the stream's spot create)
      --url URL      the gateway's address (default: http.host/http.port of the configuration)
      --token T      spot token for auth.spots: token (default: $SPOT_TOKEN)
  -c, --config PATH  YAML configuration file (default ./gateway.yaml if present)
  -h, --help         this help
`;

const DEFAULT_TELNET_PORT = 23;
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 10000;
const CONNECT_TIMEOUT_MS = 10000;

export interface TapTarget {
  host: string;
  port: number;
}

/** HOST, HOST:PORT, [V6], [V6]:PORT; a string saying what is wrong otherwise. */
export function parseTarget(text: string): TapTarget | string {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) return `"${text}" is not HOST[:PORT]`;
  const port = m[2] === undefined ? DEFAULT_TELNET_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port "${m[2]}" of "${text}" is not 1..65535`;
  return { host: m[1]!, port };
}

/** A serial as the ingest route takes it: a positive integer. */
export function parseSerialOption(text: string): number | string {
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) && n > 0 ? n : `--serial "${text}" is not a positive integer`;
}

/** The stream's alive signal (`["spot","update",{"online":true}]`): not stored; --ingest makes an empty post of it. */
export function isAliveSignal(event: SpotEvent): boolean {
  const keys = Object.keys(event.data);
  return event.resource === 'spot' && event.action === 'update' && keys.length === 1 && event.data.online === true;
}

interface TapArgs {
  target: TapTarget;
  json: boolean;
  ingest: boolean;
  serial?: number;
  url?: string;
  token?: string;
  config?: string;
}

function parseTapArgs(args: string[], io: CliIo): TapArgs | { help: true } | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        ingest: { type: 'boolean' },
        serial: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        config: { type: 'string', short: 'c' },
      },
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) return { error: positionals.length === 0 ? 'the spot HOST[:PORT] is missing' : `one spot only, got "${positionals.join(' ')}"` };
  const target = parseTarget(positionals[0]!);
  if (typeof target === 'string') return { error: target };
  let serial: number | undefined;
  if (values.serial !== undefined) {
    const s = parseSerialOption(values.serial);
    if (typeof s === 'string') return { error: s };
    serial = s;
  }
  if (!values.ingest && (values.url !== undefined || values.token !== undefined)) return { error: '--url and --token go with --ingest' };
  return {
    target,
    json: values.json ?? false,
    ingest: values.ingest ?? false,
    serial,
    url: values.url,
    token: values.token ?? (io.env.SPOT_TOKEN || undefined),
    config: values.config,
  };
}

/** Resolves with the exit code once SIGINT/SIGTERM ended the tap (2: bad arguments). */
export async function runTapCli(args: string[], io: CliIo): Promise<number> {
  const parsed = parseTapArgs(args, io);
  if ('help' in parsed) {
    io.out(TAP_HELP);
    return 0;
  }
  if ('error' in parsed) {
    io.err(`spot-gateway tap: ${parsed.error}\n\n${TAP_HELP}`);
    return 2;
  }
  const url = parsed.ingest ? gatewayBase(parsed, io) : parsed.url;
  if (url === null) return 2;
  const tap = new Tap(parsed, io, url);
  const stop = (): void => tap.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await tap.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

class Tap {
  private running = true;
  private socket: net.Socket | null = null;
  private wake: (() => void) | null = null;
  private serial: number | undefined;
  private serialChecked = false;
  private readonly forwarder: Forwarder | null;
  private readonly colour: boolean;
  private readonly where: string;

  constructor(
    private readonly args: TapArgs,
    private readonly io: CliIo,
    private readonly url: string | undefined,
  ) {
    this.serial = args.serial;
    this.colour = !args.json && wantColour(process.stdout.isTTY === true, io.env);
    this.where = `${args.target.host.includes(':') ? `[${args.target.host}]` : args.target.host}:${args.target.port}`;
    this.forwarder =
      args.ingest && url !== undefined
        ? new Forwarder({ url, token: args.token, say: (line) => this.say(line), onReply: (body) => this.socket?.write(body) })
        : null;
    if (this.forwarder && this.serial !== undefined) this.forwarder.setSerial(this.serial);
  }

  private say(line: string): void {
    this.io.err(`tap: ${line}\n`);
  }

  stop(): void {
    this.running = false;
    this.socket?.destroy();
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** A method, so a check after an await is not narrowed by the loop's. */
  private stopped(): boolean {
    return !this.running;
  }

  async run(): Promise<number> {
    if (this.forwarder) this.say(`ingest: posting to ${this.url}`);
    let delay = RECONNECT_FIRST_MS;
    let lastFailure = '';
    while (this.running) {
      const outcome = await this.readConnection();
      if (this.stopped()) break;
      if (outcome.connected) delay = RECONNECT_FIRST_MS;
      const line = outcome.connected ? `spot ${this.where}: disconnected (${outcome.reason}); reconnecting` : `spot ${this.where}: cannot connect (${outcome.reason}); retrying`;
      if (outcome.connected || outcome.reason !== lastFailure) this.say(line);
      lastFailure = outcome.connected ? '' : outcome.reason;
      await this.sleep(delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
    if (this.forwarder) {
      await this.forwarder.stop();
      const left = this.forwarder.pendingCount;
      this.say(`stopped; ${this.forwarder.stored} events stored by the gateway${left > 0 ? `, ${left} not delivered` : ''}`);
    } else this.say('stopped');
    return 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One connection: until it closes. */
  private readConnection(): Promise<{ connected: boolean; reason: string }> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: this.args.target.host, port: this.args.target.port });
      this.socket = socket;
      let connected = false;
      let reason = 'closed by the spot';
      let head: Uint8Array[] = [];
      // Set in the data handler: a holder, so the close handler's check is not narrowed away.
      const stream: { decoder: StreamDecoder | null; encoding: Encoding } = { decoder: null, encoding: 'json' };
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
        if (!connected) {
          reason = `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`;
          socket.destroy();
        }
      });
      socket.once('connect', () => {
        connected = true;
        socket.setTimeout(0);
        this.say(`spot ${this.where}: connected`);
      });
      socket.on('data', (chunk: Buffer) => {
        if (!stream.decoder) {
          head.push(chunk);
          const bytes = concatBytes(head);
          if (!canSniff(undefined, bytes)) return;
          stream.encoding = sniffEncoding(undefined, bytes);
          stream.decoder = stream.encoding === 'pb' ? createPbDecoder() : createJsonDecoder();
          head = [];
          this.handle(stream.decoder.push(bytes), stream.encoding);
          return;
        }
        this.handle(stream.decoder.push(chunk), stream.encoding);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        reason = err.code ?? err.message;
      });
      socket.once('close', () => {
        if (stream.decoder) this.handle(stream.decoder.end(), stream.encoding);
        if (this.socket === socket) this.socket = null;
        resolve({ connected, reason });
      });
    });
  }

  private handle(items: ReturnType<StreamDecoder['push']>, encoding: Encoding): void {
    const at = new Date();
    for (const item of items) {
      if (item.kind === 'rejected') {
        this.say(`spot ${this.where}: not a spot protocol message (${item.rejected.reason})`);
        continue;
      }
      const event = item.event;
      if (event.resource === 'spot' && event.action === 'create') this.learnSerial(event.data.spot_id);
      this.io.out(eventLine(event, this.serial, at, { json: this.args.json, colour: this.colour }));
      if (!this.forwarder) continue;
      if (isAliveSignal(event)) this.forwarder.alive(encoding);
      else this.forwarder.push(event, encoding);
    }
  }

  private learnSerial(spotId: unknown): void {
    if (typeof spotId !== 'number' || !Number.isSafeInteger(spotId) || spotId <= 0) return;
    if (this.serial === undefined) {
      this.serial = spotId;
      this.forwarder?.setSerial(spotId);
    } else if (spotId !== this.serial && !this.serialChecked) {
      this.say(`spot ${this.where} says it is spot ${spotId}; using --serial ${this.serial}`);
    }
    this.serialChecked = true;
  }
}
