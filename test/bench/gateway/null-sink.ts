// The baseline: a bare node:http server that reads every post body, discards it
// and answers 200 at its end. What the machine can do without storing anything.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startNullSink(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.writeHead(200, { 'Content-Length': '0' }).end());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
