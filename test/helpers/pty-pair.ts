// A pty pair from socat (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`): two real serial devices
// joined back to back. The SMP stand-in opens one end with serialport; the CLI opens the other.
import { spawn } from 'node:child_process';
import { SerialPort } from 'serialport';
import { within, type Teardown } from './gateway.js';

export interface PtyPair {
  /** The end the gateway's command opens. */
  gatewayPath: string;
  /** The end the device stand-in has open. */
  device: SerialPort;
}

export async function ptyPair(t: Teardown): Promise<PtyPair> {
  const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => {
    socat.kill('SIGTERM');
  });
  let log = '';
  const paths = await within(
    new Promise<string[]>((resolve, reject) => {
      socat.once('exit', (code) => reject(new Error(`socat exited (${code}): ${log}`)));
      socat.stderr.on('data', (d: Buffer) => {
        log += d.toString();
        const found = [...log.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1]!);
        if (found.length === 2 && /starting data transfer loop/.test(log)) resolve(found);
      });
    }),
    5000,
    'socat to create its two ptys',
  );
  const device = new SerialPort({ path: paths[1]!, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => device.open((err) => (err ? reject(err) : resolve())));
  device.on('error', () => undefined);
  t.teardown(() => new Promise<void>((resolve) => (device.isOpen ? device.close(() => resolve()) : resolve())));
  return { gatewayPath: paths[0]!, device };
}
