// Stored firmware images (docs/firmware-store.md): upload (checked against the trusted keys and the
// target before it is kept), list, one image, its bytes, delete.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ImageStore } from '../flash/image-store.js';
import { badRequest, conflict, notFound, unprocessable } from './errors.js';

export interface ImageRoutesDeps {
  images: Pick<ImageStore, 'add' | 'list' | 'get' | 'read' | 'remove'>;
  /** firmware.max_image_bytes: the upload's body limit. */
  maxImageBytes: number;
}

const HASH = /^[0-9a-f]{64}$/;

/** The :hash parameter, or the reply already sent. */
function hashParam(text: string, reply: FastifyReply): string | { sent: FastifyReply } {
  const hash = text.toLowerCase();
  return HASH.test(hash) ? hash : { sent: badRequest(reply, `hash "${text.slice(0, 80)}" is not a SHA-256 in hex (64 characters 0-9 a-f)`) };
}

export function registerImageRoutes(app: FastifyInstance, deps: ImageRoutesDeps): void {
  // Scoped: only these routes read application/octet-stream bodies, up to the image limit.
  void app.register(async (scoped) => {
    scoped.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: deps.maxImageBytes }, (_request, body, done) => done(null, body));

    scoped.post('/api/images', { bodyLimit: deps.maxImageBytes }, async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) {
        return reply.code(415).send({ error: 'unsupported media type', reason: 'send the signed image file itself as the body, Content-Type application/octet-stream' });
      }
      if (request.body.length === 0) return badRequest(reply, 'the body is empty: send the signed image file');
      const added = deps.images.add(request.body);
      if (!added.ok) return added.status === 409 ? conflict(reply, added.reason) : unprocessable(reply, `${added.refusal.reason}: ${added.refusal.detail}`);
      return reply.code(added.created ? 201 : 200).header('Location', `/api/images/${added.image.hash}`).send(added.image);
    });
  });

  app.get('/api/images', async () => deps.images.list());

  app.get<{ Params: { hash: string } }>('/api/images/:hash', async (request, reply) => {
    const hash = hashParam(request.params.hash, reply);
    if (typeof hash !== 'string') return hash.sent;
    return deps.images.get(hash) ?? notFound(reply, `no stored image ${hash}`);
  });

  app.get<{ Params: { hash: string } }>('/api/images/:hash/file', async (request, reply) => {
    const hash = hashParam(request.params.hash, reply);
    if (typeof hash !== 'string') return hash.sent;
    // Checked as it is on disk now: a damaged file or a key no longer trusted is not handed out.
    const read = deps.images.read(hash);
    if (!read.ok) return read.status === 404 ? notFound(reply, read.reason) : unprocessable(reply, `${read.refusal.reason}: ${read.refusal.detail}`);
    const image = read.checked.image;
    return reply
      .type('application/octet-stream')
      .header('Content-Disposition', `attachment; filename="${hash}.img"`)
      .send(Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.end));
  });

  app.delete<{ Params: { hash: string } }>('/api/images/:hash', async (request, reply) => {
    const hash = hashParam(request.params.hash, reply);
    if (typeof hash !== 'string') return hash.sent;
    if (!deps.images.remove(hash)) return notFound(reply, `no stored image ${hash}`);
    return { hash, deleted: true };
  });
}
