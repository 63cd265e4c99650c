// spot.elf boots on its own: the documented `qemu-system-arm -M mps2-an385 -nographic -kernel spot.elf`
// (no semihosting, no pty, nothing driving it) prints the spot-protocol stream on the console.
import { spawn } from 'node:child_process';
import test from 'ava';
import { createJsonDecoder } from '../../gateway/src/protocol/index.js';
import { waitFor } from '../helpers/gateway.js';
import { firmwareBinary } from './spot-process.js';

/** The complete messages so far: JSON texts each followed by the blank line that ends a message. */
function completeMessages(consoleText: string): unknown[] {
  const parts = consoleText.split('\n\n');
  parts.pop(); // not yet ended by a blank line
  return parts.map((part) => part.trim()).filter((part) => part.startsWith('[')).map((part) => JSON.parse(part) as unknown);
}

test('spot.elf under qemu-system-arm -nographic prints spot create and config create on the console by itself', async (t) => {
  // stdin is /dev/null: nothing reaches the board; SIGKILL in teardown because the firmware never exits on its own.
  const qemu = spawn('qemu-system-arm', ['-M', 'mps2-an385', '-nographic', '-kernel', firmwareBinary('mps2')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let consoleText = '';
  let errors = '';
  qemu.stdout.on('data', (d: Buffer) => (consoleText += d.toString()));
  qemu.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  t.teardown(() => {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
  });

  const [spot, config] = await waitFor(
    () => {
      if (qemu.exitCode !== null || qemu.signalCode !== null) throw new Error(`QEMU exited early (${qemu.exitCode ?? qemu.signalCode}): ${errors}`);
      const messages = completeMessages(consoleText);
      return messages.length >= 2 ? messages : undefined;
    },
    20000,
    'spot create and config create on the console',
  ).catch((err: Error) => {
    throw new Error(`${err.message}; console so far: ${JSON.stringify(consoleText.slice(0, 400))}; stderr: ${errors}`);
  });

  t.true(Array.isArray(spot) && Array.isArray(config));
  const [spotResource, spotAction, spotData] = spot as [string, string, Record<string, unknown>];
  const [configResource, configAction, configData] = config as [string, string, Record<string, unknown>];
  t.deepEqual([spotResource, spotAction, configResource, configAction], ['spot', 'create', 'config', 'create']);
  t.is(spotData.spot_id, 4711, 'the default serial without --serial (no semihosting command line)');
  t.is(spotData.online, true);
  t.is(configData.rfid_power_dbm, 27, 'the default config');

  // The console text is the stream itself: the gateway's JSON decoder takes it with nothing rejected.
  const decoder = createJsonDecoder();
  const items = decoder.push(new TextEncoder().encode(consoleText));
  t.deepEqual(items.filter((item) => item.kind !== 'event'), [], 'nothing on the console the gateway would reject');
  t.true(items.length >= 2);
});
