// The notifier alone: fake timers and an injected socket; the messages, their order, the watchdog period and when it is withheld.
import test from 'ava';
import type { NotifySocketFactory } from '../../gateway/src/systemd/notify-socket.js';
import { socketAddress } from '../../gateway/src/systemd/notify-socket.js';
import { systemdNotifier, watchdogPeriodMs, type NotifierOptions, type NotifierTimers } from '../../gateway/src/systemd/notifier.js';

class FakeTimers implements NotifierTimers {
  now = 0;
  private intervals = new Map<number, { fn: () => void; every: number; due: number }>();
  private nextId = 1;

  setInterval(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.intervals.set(id, { fn, every: ms, due: this.now + ms });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.intervals.delete(handle as number);
  }

  get pending(): number {
    return this.intervals.size;
  }

  /** Runs every interval that falls due up to now + ms, in time order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: { fn: () => void; every: number; due: number } | undefined;
      for (const i of this.intervals.values()) if (i.due <= end && (!next || i.due < next.due)) next = i;
      if (!next) break;
      this.now = next.due;
      next.due += next.every;
      next.fn();
    }
    this.now = end;
  }
}

interface Harness {
  timers: FakeTimers;
  sent: Array<{ at: number; message: string }>;
  logs: Array<{ level: 'info' | 'warn'; msg: string }>;
  opened: string[];
  closed: number;
  fault: string | null;
  status: string;
  /** Set to make the next send report this error. */
  failSend: string | null;
}

function harness(env: NodeJS.ProcessEnv, options: Partial<NotifierOptions> = {}) {
  const h: Harness = { timers: new FakeTimers(), sent: [], logs: [], opened: [], closed: 0, fault: null, status: '1 spot online', failSend: null };
  const openSocket: NotifySocketFactory = (address, onError) => {
    h.opened.push(address);
    return {
      send: (message) => {
        if (h.failSend) onError(h.failSend);
        else h.sent.push({ at: h.timers.now, message });
      },
      close: () => h.closed++,
    };
  };
  const notifier = systemdNotifier({
    env,
    pid: 4242,
    openSocket,
    fault: () => h.fault,
    status: () => h.status,
    timers: h.timers,
    monotonicUsec: () => 123456789n,
    logger: { info: (_o, msg) => h.logs.push({ level: 'info', msg }), warn: (_o, msg) => h.logs.push({ level: 'warn', msg }) },
    ...options,
  });
  return { h, notifier, messages: () => h.sent.map((s) => s.message) };
}

const UNDER_SYSTEMD = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' };

test('without NOTIFY_SOCKET no socket is opened, no timer runs, and every call does nothing', (t) => {
  const { h, notifier } = harness({ WATCHDOG_USEC: '30000000' });
  notifier.ready();
  notifier.reloading();
  notifier.stopping();
  notifier.close();
  t.false(notifier.active);
  t.deepEqual(h.opened, []);
  t.is(h.timers.pending, 0);
  t.deepEqual(h.logs, []);
});

test('READY=1 comes first, then STATUS=; WATCHDOG=1 every half of WATCHDOG_USEC, counted from the start', (t) => {
  const { h, notifier, messages } = harness(UNDER_SYSTEMD);
  t.true(notifier.active);
  t.is(notifier.watchdogEveryMs, 15000);
  h.timers.advance(15000);
  t.deepEqual(messages(), ['WATCHDOG=1'], 'the watchdog runs while the gateway starts (systemd counts from the start)');
  notifier.ready();
  t.deepEqual(messages().slice(1), ['READY=1', 'STATUS=1 spot online']);
  h.timers.advance(45000);
  t.deepEqual(
    h.sent.filter((s) => s.message === 'WATCHDOG=1').map((s) => s.at),
    [15000, 30000, 45000, 60000],
  );
});

test('the watchdog is withheld while a fault is reported: one warn line, the reason in STATUS=, and it resumes', (t) => {
  const { h, notifier, messages } = harness(UNDER_SYSTEMD);
  notifier.ready();
  h.timers.advance(15000);
  h.fault = 'store: a write has waited 6 s for the disk';
  h.timers.advance(45000);
  t.deepEqual(messages(), ['READY=1', 'STATUS=1 spot online', 'WATCHDOG=1', 'STATUS=1 spot online; watchdog withheld: store: a write has waited 6 s for the disk']);
  t.deepEqual(h.logs, [{ level: 'warn', msg: 'systemd: watchdog withheld: store: a write has waited 6 s for the disk' }], 'logged once, not at every check');
  h.fault = null;
  h.timers.advance(15000);
  t.deepEqual(messages().slice(4), ['WATCHDOG=1', 'STATUS=1 spot online']);
  t.deepEqual(h.logs[1], { level: 'info', msg: 'systemd: watchdog resumed' });
});

test('a fault check that throws withholds the watchdog too', (t) => {
  const { h, notifier, messages } = harness(UNDER_SYSTEMD, {
    fault: () => {
      throw new Error('database is closed');
    },
  });
  notifier.ready();
  h.timers.advance(30000);
  t.false(messages().includes('WATCHDOG=1'));
  t.regex(h.logs[0]!.msg, /watchdog withheld: the health check failed: Error: database is closed/);
});

test('no watchdog without WATCHDOG_USEC, or when WATCHDOG_PID names another process', (t) => {
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: '30000000' }, 4242), 15000);
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' }, 4242), 15000);
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, 4242), null);
  t.is(watchdogPeriodMs({}, 4242), null);
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: 'soon' }, 4242), null);
  const { h, notifier, messages } = harness({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' });
  notifier.ready();
  h.timers.advance(60000);
  t.is(notifier.watchdogEveryMs, null);
  t.deepEqual(messages(), ['READY=1', 'STATUS=1 spot online']);
});

test('STATUS= is sent again only when the line changes, as one line', (t) => {
  const { h, notifier, messages } = harness({ NOTIFY_SOCKET: '/run/systemd/notify' });
  notifier.ready();
  h.timers.advance(20000);
  t.deepEqual(messages(), ['READY=1', 'STATUS=1 spot online']);
  h.status = '2 spots online\nbacklog 3 events';
  h.timers.advance(5000);
  t.deepEqual(messages().slice(2), ['STATUS=2 spots online backlog 3 events']);
});

test('RELOADING=1 carries MONOTONIC_USEC; READY=1 and the status follow the reload', (t) => {
  const { notifier, messages } = harness(UNDER_SYSTEMD);
  notifier.ready();
  notifier.reloading();
  notifier.ready();
  t.deepEqual(messages(), ['READY=1', 'STATUS=1 spot online', 'RELOADING=1\nMONOTONIC_USEC=123456789', 'READY=1', 'STATUS=1 spot online']);
});

test('STOPPING=1 is the last message: the watchdog and the status refresh end with it', (t) => {
  const { h, notifier, messages } = harness(UNDER_SYSTEMD);
  notifier.ready();
  h.timers.advance(15000);
  notifier.stopping();
  h.status = 'changed';
  h.timers.advance(60000);
  notifier.ready();
  notifier.close();
  t.deepEqual(messages(), ['READY=1', 'STATUS=1 spot online', 'WATCHDOG=1', 'STOPPING=1']);
  t.is(h.timers.pending, 0);
  t.is(h.closed, 1);
});

test('@name is an address in the abstract namespace; a path stays a path', (t) => {
  t.is(socketAddress('@/org/freedesktop/systemd1/notify/123'), '\0/org/freedesktop/systemd1/notify/123');
  t.is(socketAddress('/run/systemd/notify'), '/run/systemd/notify');
  const { h } = harness({ NOTIFY_SOCKET: '@spot-notify' });
  t.deepEqual(h.opened, ['\0spot-notify']);
});

test('a missing binding is one warn line and nothing else fails', (t) => {
  const logs: string[] = [];
  const notifier = systemdNotifier({
    env: UNDER_SYSTEMD,
    pid: 1,
    openSocket: () => ({ unavailable: 'the unix-dgram binding is not installed' }),
    fault: () => null,
    status: () => '',
    logger: { info: () => undefined, warn: (_o, msg) => logs.push(msg) },
  });
  notifier.ready();
  notifier.stopping();
  t.false(notifier.active);
  t.deepEqual(logs, ['systemd: NOTIFY_SOCKET is set but the unix-dgram binding is not installed: systemd hears nothing from the gateway']);
});

test('a send that fails is logged once per reason and never throws', (t) => {
  const { h, notifier } = harness(UNDER_SYSTEMD);
  h.failSend = 'send ECONNREFUSED';
  notifier.ready();
  h.timers.advance(60000);
  t.deepEqual(
    h.logs.map((l) => l.msg),
    ['systemd: cannot notify /run/systemd/notify: send ECONNREFUSED'],
  );
});
