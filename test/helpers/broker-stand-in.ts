// A broker stand-in on a real TCP socket (mqtt-packet's parser and generator): answers CONNACK, SUBACK,
// PUBACK and PINGRESP, and can misbehave on purpose: close the connection when a chosen PUBLISH
// arrives (before acknowledging it), close it at the n-th PUBLISH of a connection, or never send PUBACKs.
import net from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

export interface StandInMessage {
  topic: string;
  payload: Buffer;
  eventId: string | undefined;
}

export interface BrokerStandIn {
  url: string;
  /** PUBLISHes of events (not state messages) acknowledged, in arrival order. */
  readonly delivered: StandInMessage[];
  /** Connections closed on purpose, and connections accepted. */
  readonly drops: () => number;
  readonly connections: () => number;
  /** Close the connection, unacknowledged, whenever a PUBLISH matches (null: never). */
  dropWhen(match: ((message: StandInMessage) => boolean) | null): void;
  /** Close the connection at its n-th event PUBLISH, for the next `times` connections. */
  dropAtNth(n: number, times: number): void;
  /** Take every PUBLISH but never acknowledge it. */
  neverAck(on: boolean): void;
  /** Close every open connection now. */
  kick(): void;
  /** Close new connections at their CONNECT, before any CONNACK. */
  refuseConnects(on: boolean): void;
  /** Close connections at their SUBSCRIBE, unanswered (a broker whose ACL refuses it that way). */
  refuseSubscribes(on: boolean): void;
  /** Answer SUBSCRIBEs with a SUBACK refusing every filter (0x87 / 0x80) and keep the connection. */
  denySubscribes(on: boolean): void;
  /** CONNECTs refused that way. */
  readonly refused: () => number;
}

const isEvent = (topic: string) => /(^|\/)from\/[^/]+\/(json|pb)(\/|$)/.test(topic);

export async function startBrokerStandIn(t: { teardown(fn: () => unknown): void }): Promise<BrokerStandIn> {
  const delivered: StandInMessage[] = [];
  let drops = 0;
  let connections = 0;
  let match: ((message: StandInMessage) => boolean) | null = null;
  let nth = { n: 0, times: 0 };
  let silent = false;
  let refusing = false;
  let refused = 0;
  let refusingSubscribes = false;
  let denyingSubscribes = false;
  const sockets = new Set<net.Socket>();
  const hangUps = new Set<() => void>();

  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    const parser = mqttPacket.parser();
    let version: 4 | 5 = 5;
    let closed = false;
    let events = 0;
    const dropAtThisOne = nth.times > 0 ? nth.n : 0;
    if (nth.times > 0) nth = { n: nth.n, times: nth.times - 1 };
    const send = (packet: Packet) => {
      if (!closed) socket.write(mqttPacket.generate(packet, { protocolVersion: version }));
    };
    // FIN after what was written (earlier PUBACKs go out), as a broker closing the socket does.
    const hangUp = () => {
      closed = true;
      socket.end();
    };
    hangUps.add(hangUp);
    const drop = () => {
      drops++;
      hangUp();
    };
    parser.on('packet', (packet: Packet) => {
      if (closed) return;
      switch (packet.cmd) {
        case 'connect':
          if (refusing) {
            refused++;
            return hangUp();
          }
          // The parser takes the protocol level from the CONNECT it parsed; the generator is told here.
          version = packet.protocolVersion === 5 ? 5 : 4;
          send({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false });
          return;
        case 'subscribe':
          if (refusingSubscribes) return drop();
          send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => (denyingSubscribes ? (version === 5 ? 0x87 : 0x80) : 1)) });
          return;
        case 'pingreq':
          send({ cmd: 'pingresp' });
          return;
        case 'disconnect':
          hangUp();
          return;
        case 'publish':
          onPublish(packet);
          return;
        default:
          return;
      }
    });
    const onPublish = (packet: IPublishPacket) => {
      const value = packet.properties?.userProperties?.event_id;
      const message = { topic: packet.topic, payload: Buffer.from(packet.payload), eventId: Array.isArray(value) ? value[0] : value };
      const event = isEvent(packet.topic);
      if (event) events++;
      if (event && (match?.(message) || events === dropAtThisOne)) return drop();
      if (silent && event) return;
      if (event) delivered.push(message);
      if (packet.qos > 0) send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 });
    };
    parser.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (!closed) parser.parse(chunk);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      hangUps.delete(hangUp);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    delivered,
    drops: () => drops,
    connections: () => connections,
    dropWhen: (m) => (match = m),
    dropAtNth: (n, times) => (nth = { n, times }),
    neverAck: (on) => (silent = on),
    refuseConnects: (on) => (refusing = on),
    refused: () => refused,
    refuseSubscribes: (on) => (refusingSubscribes = on),
    denySubscribes: (on) => (denyingSubscribes = on),
    kick: () => {
      for (const hangUp of hangUps) hangUp();
    },
  };
}
