// SIGHUP: which keys of a configuration read again apply at once, and which wait for a restart
// (docs/operations.md, "What SIGHUP reloads").
import { leafKeys } from './env.js';
import { configSchema, type GatewayConfig, type LogLevel } from './schema.js';

/** Keys the running gateway takes over at a reload. */
export const LIVE_KEYS: readonly string[] = ['log.level'];

export interface ReloadPlan {
  /** Live values to apply (only those that changed). */
  apply: { logLevel?: LogLevel };
  /** Changed keys that apply now, e.g. ['log.level']. */
  applied: string[];
  /** Changed keys that take effect at the next restart. */
  needRestart: string[];
}

const KEY_PATHS = leafKeys(configSchema).map((k) => k.path);

function valueAt(config: GatewayConfig, path: string[]): unknown {
  let node: unknown = config;
  for (const part of path) node = node === null || typeof node !== 'object' ? undefined : (node as Record<string, unknown>)[part];
  return node;
}

/** Compares the running configuration with the one read again. */
export function planReload(running: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const plan: ReloadPlan = { apply: {}, applied: [], needRestart: [] };
  for (const path of KEY_PATHS) {
    const key = path.join('.');
    if (valueAt(running, path) === valueAt(next, path)) continue;
    if (LIVE_KEYS.includes(key)) plan.applied.push(key);
    else plan.needRestart.push(key);
  }
  if (plan.applied.includes('log.level')) plan.apply.logLevel = next.log.level;
  return plan;
}
