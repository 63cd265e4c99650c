// A broker that only speaks MQTT 3.1.1: a proxy in front of Mosquitto refuses MQTT 5 CONNECTs
// the way a 3.1.1 broker does (CONNACK return code 1), and passes 3.1.1 connections through.
import net from 'node:net';

export async function v311Proxy(t: { teardown(fn: () => unknown): void }, brokerPort: number): Promise<{ url: string; refused: () => number }> {
  let refused = 0;
  const server = net.createServer((client) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      // CONNECT: fixed header, remaining length (1-4 bytes), "MQTT" (2 + 4 bytes), protocol level.
      let at = 1;
      while (at < head.length && head[at]! & 0x80) at++;
      const levelAt = at + 1 + 6;
      if (head.length <= levelAt) return;
      client.off('data', onData);
      if (head[levelAt] === 5) {
        refused++;
        client.end(Buffer.from([0x20, 0x02, 0x00, 0x01]));
        return;
      }
      const upstream = net.connect(brokerPort, '127.0.0.1', () => {
        upstream.write(head);
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  return { url: `mqtt://127.0.0.1:${port}`, refused: () => refused };
}
