/* The spot's SMP server (smp_server.h): the message header, the dispatch to the
   groups (smp_os_group.c, smp_image_group.c) and the serial framing. */
#include "smp_server.h"

#include <string.h>

#include "smp_server_internal.h"

int smp_server_init(smp_server_t *s, const smp_server_config_t *config)
{
  memset(s, 0, sizeof *s);
  s->config = *config;
  smp_serial_reader_init(&s->reader, s->buf, SMP_BUF_SIZE);
  return config->flash ? smp_upload_load(&s->upload, config->flash, config->map) : BOOT_OK;
}

size_t smp_server_handle(smp_server_t *s, size_t len)
{
  uint8_t *h = s->buf;
  if (len < SMP_HEADER_SIZE) {
    return 0;
  }
  uint8_t op = h[0] & 7u;
  uint8_t version = (uint8_t)(h[0] >> 3 & 3u);
  uint16_t data_len = (uint16_t)(h[2] << 8 | h[3]);
  uint16_t group = (uint16_t)(h[4] << 8 | h[5]);
  uint8_t id = h[7];
  if (op != SMP_OP_READ && op != SMP_OP_WRITE) {
    return 0; /* a response, or a reserved op: nothing to answer */
  }
  smp_request_t q;
  smp_reply_t a = {s, {0}, version > 1u ? 1u : version, group};
  cbor_writer_init(&a.w, s->buf + SMP_HEADER_SIZE, SMP_BUF_SIZE - SMP_HEADER_SIZE);
  s->requests++;
  if (version > 1u) {
    smp_reply_rc(&a, SMP_RC_ENOTSUP_VERSION);
  } else if ((h[0] >> 5) != 0 || data_len != len - SMP_HEADER_SIZE
             || !smp_request_decode(s->buf + SMP_HEADER_SIZE, data_len, &q)) {
    smp_reply_rc(&a, SMP_RC_EINVAL);
  } else if (group == SMP_GROUP_OS) {
    smp_os_group(&a, op, id, &q);
  } else if (group == SMP_GROUP_IMAGE) {
    smp_image_group(&a, op, id, &q);
  } else {
    smp_reply_rc(&a, SMP_RC_ENOTSUP);
  }
  if (a.w.overflow) {
    smp_reply_rc(&a, SMP_RC_EMSGSIZE);
  }
  h[0] = (uint8_t)(a.version << 3 | (op + 1u));
  h[1] = 0;
  h[2] = (uint8_t)(a.w.len >> 8);
  h[3] = (uint8_t)a.w.len;
  /* group, sequence number and command id stay as the request had them */
  return SMP_HEADER_SIZE + a.w.len;
}

void smp_server_line(smp_server_t *s, const uint8_t *line, size_t len, smp_put_fn put, void *ctx)
{
  size_t body_len = 0;
  if (smp_serial_line(&s->reader, line, len, &body_len) != SMP_LINE_PACKET) {
    return;
  }
  size_t out = smp_server_handle(s, body_len);
  if (out > 0) {
    smp_serial_write(s->buf, out, put, ctx);
  }
}
