// Authentication and authorisation, composed for the gateway (docs/security.md); main.ts wires it in.
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AuthConfig } from '../config/schema.js';
import type { StoredNumbering } from '../ingest/numbering-bound.js';
import type { PostAdmission } from '../transports/spot-admission.js';
import { ApiKeys } from './api-keys.js';
import { openAuthDb } from './auth-db.js';
import { authView, registerAuthRoutes } from './auth-routes.js';
import { registerGuard } from './guard.js';
import { registerAuthMetrics } from './metrics.js';
import { FailureLimiter } from './rate-limit.js';
import { Sessions } from './sessions.js';
import { SpotAuthFailures, spotGuard } from './spot-guard.js';
import { SpotTokens } from './spot-tokens.js';
import { Users } from './users.js';
import type http from 'node:http';
import type { PostNumbering } from '../ingest/headers.js';

export { openAuthDb, AUTH_DB_FILE, AuthDbError } from './auth-db.js';

export interface GatewayAuthOptions {
  config: AuthConfig;
  dataDir: string;
  numberingOf: (serial: string) => StoredNumbering | null;
  counters: { numberingRefused: number };
  now: () => number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface GatewayAuth {
  admitPost: (req: http.IncomingMessage, serial: string, numbering: PostNumbering | null) => PostAdmission;
  /** The guard hook and the /api/auth routes. */
  register(app: FastifyInstance): void;
  registerMetrics(registry: Registry): void;
  /** The `auth` part of /healthz. */
  view(): ReturnType<typeof authView>;
  close(): void;
}

export function createGatewayAuth(o: GatewayAuthOptions): GatewayAuth {
  const db: Database.Database = openAuthDb(o.dataDir);
  const modes = { spots: o.config.spots, api: o.config.api };
  const users = new Users(db, o.now);
  const sessions = new Sessions(db, { idleMs: o.config.session_idle_s * 1000, maxMs: o.config.session_max_s * 1000 }, o.now);
  const apiKeys = new ApiKeys(db, o.now);
  const limiter = new FailureLimiter(o.config.max_failures_per_min, o.now);
  const spotFailures = new SpotAuthFailures();
  const failures = { api: 0 };
  const view = (): ReturnType<typeof authView> => authView(modes, users.count());
  for (const note of view().open) o.logger.warn({ auth: modes }, `auth: ${note} (docs/security.md)`);
  return {
    admitPost: spotGuard({
      mode: modes.spots,
      tokens: new SpotTokens(db, o.now),
      limiter,
      failures: spotFailures,
      numberingOf: o.numberingOf,
      maxAhead: o.config.numbering_max_ahead,
      counters: o.counters,
    }),
    register: (app) => {
      if (modes.api === 'on') registerGuard(app, { sessions, apiKeys, users, limiter, failures });
      registerAuthRoutes(app, { modes, users, sessions, limiter, failures, sessionMaxS: o.config.session_max_s, logger: o.logger });
    },
    registerMetrics: (registry) => registerAuthMetrics(registry, { spotFailures, apiFailures: () => failures.api, rateLimited: () => limiter.limited }),
    view,
    close: () => db.close(),
  };
}
