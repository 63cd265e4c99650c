// Flash jobs from the API (docs/firmware-store.md): POST /api/flash starts one (port + stored
// image), GET /api/flash/:id shows its progress and outcome, GET /api/flash the recent ones.
import type { FastifyInstance } from 'fastify';
import type { FlashJobs, JobRequest } from '../flash/flash-jobs.js';
import type { PortCheck } from '../flash/port-rules.js';
import type { FlashMode } from '../smp/flasher.js';
import { badRequest, conflict, forbidden, notFound, unprocessable } from './errors.js';

export interface FlashRoutesDeps {
  jobs: Pick<FlashJobs, 'start' | 'get' | 'list'>;
  /** firmware.ports. */
  checkPort: (port: string) => PortCheck;
}

const MODES: readonly FlashMode[] = ['confirm', 'test', 'upload-only'];
const KEYS = ['port', 'image', 'mode', 'baud', 'timeoutMs', 'tries', 'bootWaitS'];

/** An optional whole number in bounds, or the reason naming the key. */
function whole(body: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number | string {
  const value = body[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return `${key}: must be a whole number ${min}..${max}`;
  return value;
}

/** The body as a job request (the port not yet judged against the allow-list), or the reason it is refused. */
export function readFlashBody(body: unknown): JobRequest | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object {"port", "image"} (optional: mode, baud, timeoutMs, tries, bootWaitS)';
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).find((k) => !KEYS.includes(k));
  if (extra !== undefined) return `${extra}: unknown key (expected ${KEYS.join(', ')})`;
  if (typeof b.port !== 'string' || b.port === '') return 'port: must be the serial port\'s path, e.g. /dev/serial/by-id/...';
  if (typeof b.image !== 'string' || !/^[0-9a-fA-F]{64}$/.test(b.image)) return 'image: must be a stored image\'s hash (64 hex characters, GET /api/images)';
  const mode = b.mode ?? 'confirm';
  if (typeof mode !== 'string' || !MODES.includes(mode as FlashMode)) return `mode: must be one of ${MODES.join(', ')}`;
  const baudRate = whole(b, 'baud', 115200, 50, 4000000);
  const timeoutMs = whole(b, 'timeoutMs', 2000, 10, 60000);
  const tries = whole(b, 'tries', 3, 1, 10);
  const bootWaitS = whole(b, 'bootWaitS', 60, 1, 3600);
  for (const v of [baudRate, timeoutMs, tries, bootWaitS]) if (typeof v === 'string') return v;
  return { port: b.port, image: b.image.toLowerCase(), mode: mode as FlashMode, baudRate: baudRate as number, timeoutMs: timeoutMs as number, tries: tries as number, bootWaitMs: (bootWaitS as number) * 1000 };
}

export function registerFlashRoutes(app: FastifyInstance, deps: FlashRoutesDeps): void {
  app.post('/api/flash', async (request, reply) => {
    const job = readFlashBody(request.body);
    if (typeof job === 'string') return badRequest(reply, job);
    const allowed = deps.checkPort(job.port);
    if (!allowed.ok) return forbidden(reply, allowed.reason);
    const started = deps.jobs.start(job);
    if (!started.ok) {
      if (started.status === 404) return notFound(reply, started.reason);
      return started.status === 409 ? conflict(reply, started.reason) : unprocessable(reply, started.reason);
    }
    // A copy: the job as it was accepted, whatever the job has done by the time the answer is written.
    return reply.code(202).header('Location', `/api/flash/${started.job.id}`).send({ ...started.job });
  });

  app.get('/api/flash', async () => deps.jobs.list());

  app.get<{ Params: { id: string } }>('/api/flash/:id', async (request, reply) => {
    const job = deps.jobs.get(request.params.id);
    return job ?? notFound(reply, `no flash job ${request.params.id.slice(0, 80)} (jobs are kept in memory since the gateway started: the running ones and the last 100 finished)`);
  });
}
