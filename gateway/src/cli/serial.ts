// The serial ports the system knows, for `spot-gateway ports`; opening one is smp/serial-port.ts.
import { readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { SerialPort } from 'serialport';

export { openSerialPort, type OpenedPort, type PortOpener } from '../smp/serial-port.js';

export interface ListedPort {
  path: string;
  /** The stable /dev/serial/by-id name of the same device, when udev made one. */
  byId: string | null;
  description: string;
}

function byIdNames(dir = '/dev/serial/by-id'): Map<string, string> {
  const names = new Map<string, string>();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return names;
  }
  for (const entry of entries) {
    try {
      names.set(realpathSync(path.join(dir, entry)), path.join(dir, entry));
    } catch {
      // A dangling link: the device went away while we listed.
    }
  }
  return names;
}

/** Ports with a stable by-id name first, then by path. */
export function byIdFirst(ports: ListedPort[]): ListedPort[] {
  return [...ports].sort((a, b) => Number(b.byId !== null) - Number(a.byId !== null) || a.path.localeCompare(b.path));
}

/** The serial ports the system knows, with their by-id names. */
export async function listSerialPorts(): Promise<ListedPort[]> {
  const ids = byIdNames();
  const ports = await SerialPort.list();
  const listed = ports.map((p) => {
    const real = (() => {
      try {
        return realpathSync(p.path);
      } catch {
        return p.path;
      }
    })();
    const description = [p.manufacturer, p.serialNumber && `serial ${p.serialNumber}`, p.vendorId && p.productId && `${p.vendorId}:${p.productId}`].filter(Boolean).join(', ');
    return { path: p.path, byId: ids.get(real) ?? null, description };
  });
  return listed;
}
