// A scripted stand-in for the broker connection: records publishes, lets the test send CONNACK/PUBACK/close.
import { EventEmitter } from 'node:events';
import {
  MqttForwarder,
  type ClientFactory,
  type ConnectOptions,
  type ForwardSource,
  type InboundPublish,
  type MqttForwarderOptions,
  type Timers,
  type UpstreamClient,
} from '../../gateway/src/upstream/index.js';
import type { PublishOptions } from '../../gateway/src/upstream/options.js';

export interface Published {
  topic: string;
  payload: string | Buffer;
  opts: PublishOptions;
  cb: (err?: Error) => void;
  acked: boolean;
}

export class FakeClient extends EventEmitter {
  readonly published: Published[] = [];
  readonly subscribed: string[] = [];
  /** `force` of every end() call. */
  readonly endCalls: boolean[] = [];
  handleMessage: (packet: InboundPublish, done: (err?: Error) => void) => void = (_p, done) => done();

  constructor(readonly options: ConnectOptions) {
    super();
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions, cb: (err?: Error) => void): this {
    this.published.push({ topic, payload, opts, cb, acked: false });
    return this;
  }

  subscribe(filters: string[], _opts: unknown, cb: (err: Error | null) => void): this {
    this.subscribed.push(...filters);
    cb(null);
    return this;
  }

  end(force?: boolean, _opts?: unknown, cb?: () => void): this {
    this.endCalls.push(force ?? false);
    cb?.();
    return this;
  }

  connack(properties: Record<string, unknown> = {}): void {
    this.emit('connect', { sessionPresent: false, properties });
  }

  /** PUBACK for every publish not acked yet (optionally only those matching); not those its callbacks publish. */
  ackAll(filter: (p: Published) => boolean = () => true, err?: Error): number {
    let n = 0;
    for (const p of [...this.published]) {
      if (p.acked || !filter(p)) continue;
      p.acked = true;
      n++;
      p.cb(err);
    }
    return n;
  }

  pending(): Published[] {
    return this.published.filter((p) => !p.acked);
  }

  events(): Published[] {
    return this.published.filter((p) => p.topic.includes('from/'));
  }
}

export function fakeFactory(): { factory: ClientFactory; clients: FakeClient[] } {
  const clients: FakeClient[] = [];
  const factory: ClientFactory = (_url, options) => {
    const client = new FakeClient(options);
    clients.push(client);
    return client satisfies UpstreamClient;
  };
  return { factory, clients };
}

export class FakeTimers implements Timers {
  private seq = 0;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  delays(): number[] {
    return [...this.pending.values()].map((p) => p.ms);
  }

  /** Runs the earliest-registered timer with this delay (or any). */
  fire(ms?: number): void {
    for (const [id, p] of this.pending) {
      if (ms !== undefined && p.ms !== ms) continue;
      this.pending.delete(id);
      p.fn();
      return;
    }
    throw new Error(`no timer${ms === undefined ? '' : ` of ${ms} ms`} pending`);
  }
}

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function eventIdOf(p: Published): unknown {
  return p.opts.properties?.userProperties?.event_id;
}

/** A forwarder on the scripted client and fake timers (not started): the setup every forwarder unit test shares. */
export function scriptedForwarder(
  source: ForwardSource,
  extra: Partial<MqttForwarderOptions> = {},
): { forwarder: MqttForwarder; clients: FakeClient[]; timers: FakeTimers } {
  const { factory, clients } = fakeFactory();
  const timers = new FakeTimers();
  const forwarder = new MqttForwarder({ url: 'mqtt://broker.test', gatewayId: 'gw1', source, clientFactory: factory, timers, random: () => 0.5, ...extra });
  return { forwarder, clients, timers };
}
