// A client of a spot's telnet tap: the events it streams, decoded as the gateway decodes a post body.
import net from 'node:net';
import { createJsonDecoder, createPbDecoder, type SpotEvent } from '../../gateway/src/protocol/index.js';
import { within, type Teardown } from '../helpers/gateway.js';

export interface TelnetClient {
  socket: net.Socket;
  events: SpotEvent[];
  rejected: string[];
  text(): string;
}

/** Connects to 127.0.0.1:port (bounded); closed at teardown. */
export async function connectTelnet(t: Teardown, port: number, encoding: 'json' | 'pb' = 'json'): Promise<TelnetClient> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  t.teardown(() => socket.destroy());
  await within(new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 5000, 'telnet connect');
  const decoder = encoding === 'json' ? createJsonDecoder() : createPbDecoder();
  const client: TelnetClient = { socket, events: [], rejected: [], text: () => raw };
  let raw = '';
  socket.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
    for (const item of decoder.push(chunk)) {
      if (item.kind === 'event') client.events.push(item.event);
      else client.rejected.push(item.rejected.reason);
    }
  });
  return client;
}
