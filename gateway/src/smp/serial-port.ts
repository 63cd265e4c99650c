// The one place real serial ports are opened (serialport), for the flash and smp commands and
// for flash jobs of the API.
import { SerialPort } from 'serialport';
import type { SmpPort } from './client.js';

export interface OpenedPort {
  port: SmpPort;
  /** Waits for written bytes to leave, then closes the port. */
  close(): Promise<void>;
}

export type PortOpener = (path: string, baudRate: number) => Promise<{ ok: true; opened: OpenedPort } | { ok: false; reason: string }>;

export const openSerialPort: PortOpener = async (portPath, baudRate) => {
  const port = new SerialPort({ path: portPath, baudRate, autoOpen: false });
  try {
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    return { ok: false, reason: `cannot open ${portPath}: ${(err as Error).message}` };
  }
  // A read error after the open (the device unplugged) surfaces as no answer, not as a crash.
  port.on('error', () => undefined);
  return {
    ok: true,
    opened: {
      port,
      close: () =>
        new Promise<void>((resolve) => {
          port.drain(() => port.close(() => resolve()));
        }),
    },
  };
};
