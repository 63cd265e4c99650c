// Where the CLI finds the running gateway, and how it says that nothing answers.
import net from 'node:net';
import test from 'ava';
import { callGateway, gatewayUrl, GatewayUnreachableError } from '../../gateway/src/cli/gateway-api.js';

test('a wildcard listen address is asked on loopback; IPv6 addresses get brackets', (t) => {
  const url = (host: string, port = 8080) => gatewayUrl({ http: { host, port, idle_timeout_ms: 1000, max_connections: 1, ws_max_message_bytes: 1048576 } });
  t.is(url('0.0.0.0'), 'http://127.0.0.1:8080');
  t.is(url('::'), 'http://[::1]:8080');
  t.is(url('[::]'), 'http://[::1]:8080');
  t.is(url('fd00::5', 9000), 'http://[fd00::5]:9000');
  t.is(url('192.168.1.20'), 'http://192.168.1.20:8080');
});

test('with TLS the commands ask the plain listener when there is one, else https', (t) => {
  const http = { host: '0.0.0.0', port: 8443, idle_timeout_ms: 1000, max_connections: 1, ws_max_message_bytes: 1048576, tls_cert_file: '/c.pem', tls_key_file: '/k.pem' };
  t.is(gatewayUrl({ http }), 'https://127.0.0.1:8443');
  t.is(gatewayUrl({ http: { ...http, plain_port: 8080 } }), 'http://127.0.0.1:8080');
});

test('a gateway that accepts the connection but never answers is reported after the bound', async (t) => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const err = await t.throwsAsync(callGateway(base, '/healthz', { timeoutMs: 200 }), { instanceOf: GatewayUnreachableError });
  t.is(err.message, `no answer from the gateway at ${base} (no answer within 0.2 s): is it running? (systemctl status spot-gateway; --url to ask another address)`);
});

test('a PUT carries its JSON body', async (t) => {
  let seen = '';
  const server = net.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('"level"')) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const res = await callGateway(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, '/api/log-level', { method: 'PUT', body: { level: 'warn' } });
  t.is(res.status, 200);
  t.regex(seen, /^PUT \/api\/log-level HTTP\/1\.1\r\n/);
  t.regex(seen, /content-type: application\/json/i);
  t.true(seen.endsWith('{"level":"warn"}'));
  t.notRegex(seen, /x-api-key/i);
});

test('SPOT_GATEWAY_API_KEY goes along as X-API-Key', async (t) => {
  let seen = '';
  const server = net.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const res = await callGateway(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, '/api/status', {}, { SPOT_GATEWAY_API_KEY: 'sgk_test123' });
  t.is(res.status, 200);
  t.regex(seen, /\r\nx-api-key: sgk_test123\r\n/i);
});
