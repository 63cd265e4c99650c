// CommandIntake with fake timers: a command the store cannot take is held unacknowledged, in order, tried again.
import test from 'ava';
import { COMMAND_HOLD_LIMIT, COMMAND_RETRY_MS, CommandIntake } from '../../gateway/src/upstream/command-intake.js';
import { CommandNotQueued, type SpotCommand } from '../../gateway/src/upstream/downstream.js';
import { Topics } from '../../gateway/src/upstream/topics.js';
import { FakeTimers, scriptedForwarder, tick } from './fake-client.js';
import { MemorySource } from './fake-source.js';

function setup(onCommand: (command: SpotCommand) => unknown) {
  const warnings: string[] = [];
  const infos: string[] = [];
  const overflows: string[] = [];
  const timers = new FakeTimers();
  const intake = new CommandIntake({
    topics: new Topics(''),
    logger: { debug() {}, info: (_o, msg) => infos.push(msg), warn: (_o, msg) => warnings.push(msg), error() {} },
    onCommand,
    decodePb: undefined,
    maxBytes: 1000,
    timers,
    overflow: (reason) => overflows.push(reason),
  });
  const acks: number[] = [];
  const send = (power: number): void =>
    intake.handle({ topic: 'to/5/json/config/update', payload: Buffer.from(JSON.stringify({ rfid_power_dbm: power })), retain: false }, () => acks.push(power));
  return { intake, timers, warnings, infos, overflows, acks, send };
}

const powerOf = (command: SpotCommand): number => command.data.rfid_power_dbm as number;

test('a store failure holds the command and those after it unacknowledged; each is queued once, in order, when the store writes again', (t) => {
  let failing = true;
  const queued: number[] = [];
  const s = setup((command) => {
    if (failing) throw new CommandNotQueued('store /x.db: cannot write (SQLITE_READONLY)');
    queued.push(powerOf(command));
  });
  s.send(1);
  s.send(2);
  s.send(3);
  t.deepEqual(s.acks, [], 'nothing acknowledged');
  t.is(s.intake.waiting, 3);
  t.deepEqual(s.timers.delays(), [COMMAND_RETRY_MS]);
  s.timers.fire(COMMAND_RETRY_MS);
  s.timers.fire(COMMAND_RETRY_MS);
  t.deepEqual(s.warnings, [`mqtt: command not queued yet: to/5/json/config/update: store /x.db: cannot write (SQLITE_READONLY); not acknowledged, tried again every ${COMMAND_RETRY_MS} ms`], 'one warning, not one per try');
  failing = false;
  s.timers.fire(COMMAND_RETRY_MS);
  t.deepEqual(queued, [1, 2, 3]);
  t.deepEqual(s.acks, [1, 2, 3]);
  t.is(s.intake.waiting, 0);
  t.deepEqual(s.infos, ['mqtt: command queued after the store failed: to/5/json/config/update (4 tries)']);
  t.deepEqual([s.intake.accepted, s.intake.rejected], [3, 0]);
  t.deepEqual(s.timers.delays(), []);
});

test('an asynchronous handler: a CommandNotQueued rejection holds, another rejection refuses and acknowledges', async (t) => {
  const answers: Array<Promise<void>> = [Promise.reject(new CommandNotQueued('store closed')), Promise.reject(new Error('spot 5: queue full')), Promise.resolve()];
  const s = setup(() => answers.shift());
  s.send(1);
  await tick();
  t.deepEqual(s.acks, []);
  t.is(s.intake.waiting, 1);
  s.timers.fire(COMMAND_RETRY_MS);
  await tick();
  t.deepEqual(s.acks, [1], 'refused after the retry: acknowledged, redelivery cannot help');
  t.deepEqual(s.warnings.at(-1), 'mqtt: command ignored: to/5/json/config/update: spot 5: queue full');
  s.send(2);
  await tick();
  t.deepEqual(s.acks, [1, 2]);
  t.deepEqual([s.intake.accepted, s.intake.rejected], [1, 1]);
});

test('reset() (the connection ended) drops what is held unacknowledged and the outcome of a command being taken', async (t) => {
  let answer: (() => void) | undefined;
  const s = setup(() => new Promise<void>((_resolve, reject) => (answer = () => reject(new CommandNotQueued('store closed')))));
  s.send(1);
  s.intake.reset();
  answer!();
  await tick();
  t.deepEqual(s.timers.delays(), [], 'no retry for a command of an ended connection');
  t.deepEqual(s.acks, []);
  t.is(s.intake.waiting, 0);
  const held = setup(() => {
    throw new CommandNotQueued('store closed');
  });
  held.send(1);
  held.send(2);
  held.intake.reset();
  t.deepEqual(held.timers.delays(), []);
  t.is(held.intake.waiting, 0);
  t.deepEqual(held.acks, []);
});

test('more than COMMAND_HOLD_LIMIT commands waiting: the connection must go, the one over it is not acknowledged', (t) => {
  const s = setup(() => {
    throw new CommandNotQueued('store closed');
  });
  for (let i = 0; i < COMMAND_HOLD_LIMIT; i++) s.send(i);
  t.deepEqual(s.overflows, []);
  s.send(COMMAND_HOLD_LIMIT);
  t.deepEqual(s.overflows, [`more than ${COMMAND_HOLD_LIMIT} commands wait unacknowledged for the store; the broker delivers them again`]);
  t.is(s.intake.waiting, COMMAND_HOLD_LIMIT);
  t.deepEqual(s.acks, []);
});

test('the forwarder: a hold overflow drops the connection, and the reconnect starts with nothing held', async (t) => {
  const warnings: string[] = [];
  const log = (_o: object, msg: string): number => warnings.push(msg);
  const { forwarder, clients, timers } = scriptedForwarder(new MemorySource('inst'), {
    logger: { debug() {}, info() {}, warn: log, error: log },
    onCommand: () => {
      throw new CommandNotQueued('store closed');
    },
  });
  forwarder.start();
  clients[0]!.connack();
  const acks: number[] = [];
  for (let i = 0; i <= COMMAND_HOLD_LIMIT; i++) {
    clients[0]!.handleMessage({ topic: 'to/5/json/config/update', payload: Buffer.from('{"rfid_power_dbm":1}'), retain: false }, () => acks.push(i));
  }
  await tick();
  t.deepEqual(acks, []);
  t.is(forwarder.commandCounts().commandsWaiting, 0, 'dropped with the connection');
  t.is(forwarder.status().state, 'disconnected');
  t.regex(warnings.join('\n'), /connection to .* lost: more than 100 commands wait unacknowledged for the store/);
  t.false(timers.delays().includes(COMMAND_RETRY_MS), 'no retry left for the old connection');
  await forwarder.stop();
});
