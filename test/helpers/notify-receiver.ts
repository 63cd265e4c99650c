// A real unix datagram socket standing in for systemd's notify socket: it records every datagram with its arrival time.
import { createRequire } from 'node:module';
import path from 'node:path';
import { waitFor, type Teardown } from './gateway.js';

export interface Notification {
  /** Date.now() at arrival. */
  at: number;
  message: string;
}

interface DgramSocket {
  on(event: 'message', listener: (buf: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  bind(path: string): void;
  close(): void;
}

export interface NotifyReceiver {
  /** The value for NOTIFY_SOCKET (a path, or @name for the abstract namespace). */
  notifySocket: string;
  received: Notification[];
  /** Messages only, in arrival order. */
  messages(): string[];
  /** Waits (bounded) until a message matching `match` arrived after index `from`; returns its index. */
  next(match: (message: string) => boolean, from: number, ms: number, what: string): Promise<number>;
}

const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): DgramSocket };

/** Binds `<dir>/notify`, or an abstract name when `abstract` is given; closed at teardown. */
export function notifyReceiver(t: Teardown, where: { dir: string } | { abstract: string }): NotifyReceiver {
  const socket = unixDgram.createSocket('unix_dgram');
  const received: Notification[] = [];
  socket.on('message', (buf) => received.push({ at: Date.now(), message: buf.toString() }));
  socket.on('error', (err) => received.push({ at: Date.now(), message: `RECEIVER-ERROR ${err.message}` }));
  const notifySocket = 'dir' in where ? path.join(where.dir, 'notify') : `@${where.abstract}`;
  socket.bind('dir' in where ? notifySocket : `\0${where.abstract}`);
  t.teardown(() => socket.close());
  return {
    notifySocket,
    received,
    messages: () => received.map((r) => r.message),
    next: (match, from, ms, what) =>
      waitFor(
        () => {
          const i = received.findIndex((r, index) => index >= from && match(r.message));
          return i >= 0 ? i : undefined;
        },
        ms,
        what,
      ),
  };
}
