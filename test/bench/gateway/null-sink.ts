// The baselines: a bare node:http server that reads every post body, discards it and answers
// 200 at its end (what the machine can do without storing anything); with `decode`, it also
// decodes the events with the gateway's own JSON decoder and discards them (what receiving
// costs, so that stored/decoded is the share left for storing and forwarding).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJsonDecoder } from '../../../gateway/src/protocol/index.js';

export async function startNullSink(options: { decode?: boolean } = {}): Promise<{ port: number; decoded(): number; close(): Promise<void> }> {
  let decoded = 0;
  const server = http.createServer((req, res) => {
    if (options.decode) {
      const decoder = createJsonDecoder({ maxMessageBytes: 65536 });
      req.on('data', (chunk: Buffer) => (decoded += decoder.push(chunk).length));
      req.on('end', () => {
        decoded += decoder.end().length;
        res.writeHead(200, { 'Content-Length': '0' }).end();
      });
      return;
    }
    req.on('data', () => undefined);
    req.on('end', () => res.writeHead(200, { 'Content-Length': '0' }).end());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    decoded: () => decoded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
