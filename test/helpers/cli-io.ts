// The CLI in-process: its output captured; and a TCP port nothing listens on.
import net from 'node:net';
import type { CliIo } from '../../gateway/src/cli/index.js';

export type CapturedIo = CliIo & { stdout: () => string; stderr: () => string };

export function captureIo(env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): CapturedIo {
  let out = '';
  let err = '';
  return { out: (text) => void (out += text), err: (text) => void (err += text), env, cwd, stdout: () => out, stderr: () => err };
}

/** A port nothing listens on: taken, then given back (connecting to it is refused). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
