// Timers of the running gateway: expiring undelivered commands and forgetting silent spots.
import type { GatewayConfig } from './config/index.js';
import type { GatewayLogger } from './log.js';
import type { Store } from './store/index.js';

/** Expired commands are marked within about a quarter of their TTL (at least every 30 s). */
function expireEveryMs(ttlMs: number): number {
  return Math.min(30_000, Math.max(250, Math.floor(ttlMs / 4)));
}

/** A step of forgetting silent spots (a few thousand registry rows) every 10 s, more often for a short forget_after_s. */
function forgetEveryMs(afterMs: number): number {
  return Math.min(10_000, Math.max(250, Math.floor(afterMs / 4)));
}

/** Spots silent for `afterMs` with nothing pending are forgotten, a bounded step at a time; 0 = never. */
function forgetSilentSpots(store: Store, afterMs: number, now: () => number, logger: GatewayLogger): NodeJS.Timeout | null {
  if (!(afterMs > 0)) return null;
  const timer = setInterval(() => {
    try {
      const { forgotten } = store.forgetSilentSpots(now() - afterMs);
      if (forgotten.length > 0) {
        logger.info(
          { forgotten: forgotten.length, first: forgotten[0], silentForS: afterMs / 1000 },
          `forgot ${forgotten.length} spot(s) silent for over ${afterMs / 1000} s with nothing pending (their stored events stay)`,
        );
      }
    } catch (err) {
      logger.warn({ reason: String(err) }, 'forgetting silent spots skipped');
    }
  }, forgetEveryMs(afterMs));
  timer.unref();
  return timer;
}

/** Command expiry and forgetting silent spots, on timers; stop() clears them. */
export function housekeeping(store: Store, config: GatewayConfig, now: () => number, logger: GatewayLogger): { stop(): void } {
  const expireTimer = setInterval(() => {
    try {
      const expired = store.commands.expireDue(now());
      if (expired > 0) logger.info({ expired }, `${expired} command(s) expired undelivered`);
    } catch (err) {
      logger.warn({ reason: String(err) }, 'command expiry skipped');
    }
  }, expireEveryMs(Math.round(config.commands.ttl_s * 1000)));
  expireTimer.unref();
  const forgetTimer = forgetSilentSpots(store, config.spots.forget_after_s * 1000, now, logger);
  return {
    stop: () => {
      clearInterval(expireTimer);
      if (forgetTimer) clearInterval(forgetTimer);
    },
  };
}

