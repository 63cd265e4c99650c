// What each route of the API needs (docs/security.md, "Routes and roles"): the one place a route's role is declared.
// A route missing here needs admin, so a new route is closed until it is listed.

/** open: anyone; session: a logged-in user of any role; viewer: reads; admin: state changes. */
export type Need = 'open' | 'session' | 'viewer' | 'admin';

export const ROUTE_NEEDS: Readonly<Record<string, Need>> = {
  'GET /healthz': 'open',
  'GET /': 'open',
  'GET /dashboard/*': 'open',
  'GET /api/auth/session': 'open',
  'POST /api/auth/login': 'open',
  'POST /api/auth/logout': 'session',
  'GET /metrics': 'viewer',
  'GET /api/openapi.json': 'viewer',
  'GET /api/spots': 'viewer',
  'GET /api/spots/:serial': 'viewer',
  'GET /api/events': 'viewer',
  'GET /api/rejected': 'viewer',
  'GET /api/status': 'viewer',
  'GET /api/live': 'viewer',
  'GET /api/quarantine': 'viewer',
  'GET /api/spots/:serial/commands': 'viewer',
  'POST /api/spots/:serial/commands': 'admin',
  'POST /api/quarantine/:id/resend': 'admin',
  'DELETE /api/quarantine/:id': 'admin',
};

/**
 * The need of a request by its method and fastify's route pattern. HEAD is GET's; a request that matched
 * no route (fastify's not-found answer, nothing behind it) is open.
 */
export function needOf(method: string, routeUrl: string | undefined): Need {
  if (routeUrl === undefined) return 'open';
  const m = method === 'HEAD' ? 'GET' : method;
  return ROUTE_NEEDS[`${m} ${routeUrl}`] ?? 'admin';
}
