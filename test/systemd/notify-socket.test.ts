// The real datagram socket (unix-dgram) to a path and to the abstract namespace; a send nobody receives is reported, never thrown.
import path from 'node:path';
import test from 'ava';
import { socketAddress, unixDgramSocket } from '../../gateway/src/systemd/notify-socket.js';
import { tempDir, waitFor } from '../helpers/gateway.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';

for (const kind of ['a path', 'the abstract namespace'] as const) {
  test(`datagrams reach a socket in ${kind}, one message each`, async (t) => {
    const dir = tempDir(t);
    const systemd = notifyReceiver(t, kind === 'a path' ? { dir } : { abstract: `spot-gateway-socket-test-${process.pid}-${Date.now()}` });
    const errors: string[] = [];
    const socket = unixDgramSocket(socketAddress(systemd.notifySocket), (reason) => errors.push(reason));
    if ('unavailable' in socket) return t.fail(socket.unavailable);
    t.teardown(() => socket.close());
    socket.send('READY=1');
    socket.send('STATUS=2 spots online; backlog 0 events; no upstream');
    await waitFor(() => systemd.received.length >= 2 || undefined, 5000, 'two datagrams');
    t.deepEqual(systemd.messages(), ['READY=1', 'STATUS=2 spots online; backlog 0 events; no upstream']);
    t.deepEqual(errors, []);
  });
}

test('a send to a socket nobody listens on is reported through onError, not thrown; closing twice is harmless', (t) => {
  const errors: string[] = [];
  const socket = unixDgramSocket(path.join(tempDir(t), 'nobody'), (reason) => errors.push(reason));
  if ('unavailable' in socket) return t.fail(socket.unavailable);
  t.notThrows(() => socket.send('WATCHDOG=1'));
  t.is(errors.length, 1);
  socket.close();
  // The addon itself aborts the process on a second close: the wrapper must never pass it on.
  socket.close();
  socket.send('WATCHDOG=1');
  t.is(errors.length, 1, 'a closed socket sends nothing and reports nothing');
});
