// The telnet tap of the native spot build: the stream, the alive signal, commands, one client at a time.
import test from 'ava';
import { waitFor } from '../helpers/gateway.js';
import { startSpot } from './spot-process.js';
import { connectTelnet as connect } from './telnet-client.js';

test('telnet tap streams the spot protocol with alive signals and takes commands from a telnet client', async (t) => {
  const spot = startSpot(t, { target: 'host', serial: 7001, telnetPort: 0, runSeconds: 20 });
  const port = Number(await waitFor(() => /telnet listening on port (\d+)/.exec(spot.console())?.[1], 10000, 'the telnet port'));
  const client = await connect(t, port);
  await waitFor(() => client.events.filter((e) => e.resource === 'spot' && e.action === 'update').length >= 2, 10000, 'two alive signals');
  t.deepEqual(
    client.events.slice(0, 2).map((e) => `${e.resource} ${e.action}`),
    ['spot create', 'config create'],
  );
  t.true(client.events.some((e) => e.resource === 'presence'), 'the built-in scenario runs');

  const second = await connect(t, port);
  await waitFor(() => second.text().includes('another telnet client is connected'), 5000, 'the second client to be refused');

  // What a real telnet client sends first (IAC DO/WILL negotiation) must not disturb the command.
  client.socket.write(Buffer.concat([Buffer.from([0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18]), Buffer.from('["config","update",{"alive_ds":5}]\r\n')]));
  const update = await waitFor(() => client.events.find((e) => e.resource === 'config' && e.action === 'update'), 5000, 'the config update');
  t.is(update.data.alive_ds, 5);
  t.deepEqual(client.rejected, []);
  await spot.kill();
});
