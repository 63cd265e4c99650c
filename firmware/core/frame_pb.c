#include "frame_pb.h"

#include <pb_common.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <string.h>

#include "text.h"

#define TIME_TAG 9
#define ITEM_CODE_TAG 1
#define ITEM_REF_TAG 2

void frame_pb_stream_reset(frame_pb_stream_t *st) {
  st->previous_time = 0;
  st->item_count = 0;
}

/* Messages whose item code may be sent as a reference (docs/protocol.md). */
static bool has_item_ref(const pb_msgdesc_t *desc) {
  return desc == &spot_v1_Hit_msg || desc == &spot_v1_Presence_msg || desc == &spot_v1_AntennaPresence_msg ||
         desc == &spot_v1_HitReport_msg;
}

/* Iterator over the message inside the frame's oneof. */
static bool body_iter(spot_v1_Frame *f, pb_field_iter_t *it) {
  pb_field_iter_t frame_it;
  if (!pb_field_iter_begin(&frame_it, spot_v1_Frame_fields, f) || !pb_field_iter_find(&frame_it, f->which_body))
    return false;
  if (frame_it.submsg_desc == NULL) return false;
  return pb_field_iter_begin(it, frame_it.submsg_desc, frame_it.pData);
}

static bool find_optional(pb_field_iter_t *it, uint32_t tag) {
  return pb_field_iter_find(it, tag) && PB_HTYPE(it->type) == PB_HTYPE_OPTIONAL;
}

static int item_index(const frame_pb_stream_t *st, const char *code) {
  for (int i = 0; i < st->item_count; i++)
    if (strcmp(st->items[i], code) == 0) return i;
  return -1;
}

static void item_remember(frame_pb_stream_t *st, const char *code) {
  if (st->item_count < SPOT_ITEM_TABLE && strlen(code) < SPOT_ITEM_CODE_MAX) {
    strcpy(st->items[st->item_count], code);
    st->item_count++;
  }
}

size_t frame_pb_encode(frame_pb_stream_t *st, spot_v1_Frame *f, uint8_t *buf, size_t cap) {
  pb_field_iter_t it;
  if (body_iter(f, &it)) {
    if (find_optional(&it, TIME_TAG) && *(bool *)it.pSize && it.data_size == sizeof(int64_t)) {
      int64_t *t = (int64_t *)it.pData;
      int64_t absolute = *t;
      *t = absolute - st->previous_time;
      st->previous_time = absolute;
    }
    pb_field_iter_t ref = it;
    if (has_item_ref(it.descriptor) && find_optional(&it, ITEM_CODE_TAG) && *(bool *)it.pSize &&
        find_optional(&ref, ITEM_REF_TAG)) {
      const char *code = (const char *)it.pData;
      int i = item_index(st, code);
      if (i >= 0) {
        *(bool *)it.pSize = false;
        *(bool *)ref.pSize = true;
        *(uint32_t *)ref.pData = (uint32_t)i + 1;
      } else {
        item_remember(st, code);
      }
    }
  }
  pb_ostream_t out = pb_ostream_from_buffer(buf, cap);
  if (!pb_encode_ex(&out, spot_v1_Frame_fields, f, PB_ENCODE_DELIMITED)) return 0;
  return out.bytes_written;
}

bool frame_pb_decode(frame_pb_stream_t *st, const uint8_t *bytes, size_t len, spot_v1_Frame *f, const char **why) {
  const char *dummy;
  if (why == NULL) why = &dummy;
  memset(f, 0, sizeof *f);
  pb_istream_t in = pb_istream_from_buffer(bytes, len);
  if (!pb_decode(&in, spot_v1_Frame_fields, f)) {
    *why = PB_GET_ERROR(&in);
    return false;
  }
  pb_field_iter_t it;
  if (f->which_body == 0 || !body_iter(f, &it)) {
    *why = "frame holds no event";
    return false;
  }
  if (find_optional(&it, TIME_TAG) && *(bool *)it.pSize && it.data_size == sizeof(int64_t)) {
    int64_t *t = (int64_t *)it.pData;
    *t += st->previous_time;
    st->previous_time = *t;
  }
  pb_field_iter_t code = it;
  if (!has_item_ref(it.descriptor)) return true;
  if (find_optional(&it, ITEM_REF_TAG) && *(bool *)it.pSize && find_optional(&code, ITEM_CODE_TAG)) {
    uint32_t ref = *(uint32_t *)it.pData;
    if (ref < 1 || ref > st->item_count) {
      text_t t;
      text_init(&t, st->error, sizeof st->error);
      text_str(&t, "unknown item reference ");
      text_int(&t, ref);
      *why = st->error;
      return false;
    }
    strcpy((char *)code.pData, st->items[ref - 1]);
    *(bool *)code.pSize = true;
    *(bool *)it.pSize = false;
  } else if (find_optional(&code, ITEM_CODE_TAG) && *(bool *)code.pSize) {
    if (item_index(st, (const char *)code.pData) < 0) item_remember(st, (const char *)code.pData);
  }
  return true;
}
