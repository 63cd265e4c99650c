// The datagram socket to systemd's NOTIFY_SOCKET, through the optional unix-dgram binding
// (Node's own dgram has no AF_UNIX). Loaded only when asked for: outside systemd it is never required.
import { createRequire } from 'node:module';

/** Sends one notify datagram; never throws (a failure is reported to `onError`). */
export interface NotifySocket {
  send(message: string): void;
  close(): void;
}

/** Opens the socket for NOTIFY_SOCKET's address, or says why it cannot. */
export type NotifySocketFactory = (address: string, onError: (reason: string) => void) => NotifySocket | { unavailable: string };

/** `@name` is the abstract namespace (a leading NUL byte); anything else is a path. */
export function socketAddress(notifySocket: string): string {
  return notifySocket.startsWith('@') ? `\0${notifySocket.slice(1)}` : notifySocket;
}

interface UnixDgramSocket {
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error | null) => void): void;
  close(): void;
}

interface UnixDgram {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

/** The real socket: unix-dgram, required at the first call (a native addon; it may not have built). */
export const unixDgramSocket: NotifySocketFactory = (address, onError) => {
  let binding: UnixDgram;
  try {
    binding = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  } catch (err) {
    return { unavailable: `the unix-dgram binding is not installed (${(err as Error).message.split('\n')[0]})` };
  }
  const socket = binding.createSocket('unix_dgram');
  // unix-dgram reports a failed send as an 'error' event (ECONNREFUSED when systemd is gone, say).
  socket.on('error', (err) => onError(err.message));
  // A second close aborts the process inside the addon (a C++ assertion): closed once, then never used again.
  let open = true;
  return {
    send: (message) => {
      if (!open) return;
      const buf = Buffer.from(message);
      try {
        socket.send(buf, 0, buf.length, address);
      } catch (err) {
        onError((err as Error).message);
      }
    },
    close: () => {
      if (!open) return;
      open = false;
      try {
        socket.close();
      } catch (err) {
        onError((err as Error).message);
      }
    },
  };
};
