/* Slot contents and the resumable upload (smp_image.h). */
#include "smp_image.h"

#include <string.h>

#include "boot_image.h"
#include "boot_trailer.h"
#include "mbedtls/sha256.h"

#define TLV_SHA256 0x10u
#define TLV_INFO_SIZE 4u
#define READ_CHUNK 256u

static uint16_t le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int smp_slot_read(const boot_flash_t *flash, const boot_map_t *map, uint32_t slot, smp_slot_info_t *out)
{
  boot_image_t image;
  memset(out, 0, sizeof *out);
  int rc = boot_image_read(flash, map, slot, &image);
  if (rc != BOOT_OK) {
    return rc == BOOT_EFLASH ? rc : BOOT_OK;
  }
  memcpy(out->version, image.version, sizeof out->version);
  for (uint32_t off = image.hashed_size + TLV_INFO_SIZE; off + 4u <= image.total_size;) {
    uint8_t tlv[4];
    if (flash->read(flash->ctx, slot + off, tlv, sizeof tlv) != BOOT_OK) {
      return BOOT_EFLASH;
    }
    uint32_t len = le16(tlv + 2);
    if (off + 4u + len > image.total_size) {
      break;
    }
    if (le16(tlv) == TLV_SHA256 && len == SMP_HASH_SIZE) {
      if (flash->read(flash->ctx, slot + off + 4u, out->hash, SMP_HASH_SIZE) != BOOT_OK) {
        return BOOT_EFLASH;
      }
      out->present = true;
      break;
    }
    off += 4u + len;
  }
  return BOOT_OK;
}

static char *put_number(char *p, uint32_t v)
{
  char digits[10];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  while (n) {
    *p++ = digits[--n];
  }
  return p;
}

void smp_version_text(const uint8_t version[8], char *out)
{
  char *p = put_number(out, version[0]);
  *p++ = '.';
  p = put_number(p, version[1]);
  *p++ = '.';
  p = put_number(p, le16(version + 2));
  uint32_t build = le32(version + 4);
  if (build) {
    *p++ = '.';
    p = put_number(p, build);
  }
  *p = '\0';
}

uint32_t smp_upload_capacity(const boot_map_t *map)
{
  return boot_image_sectors_max(map) * map->sector_size;
}

static uint32_t record_addr(const boot_map_t *map)
{
  return map->secondary + (map->slot_sectors - 1u) * map->sector_size;
}

/* Where an upload cut by a power cut goes on: the start of the sector holding the
   last programmed byte below len (0 when none is). That sector is erased again
   before it is written: a program cut half way may have left a unit half written. */
static int scan_offset(const boot_flash_t *flash, const boot_map_t *map, uint32_t len, uint32_t *off, bool *erase)
{
  uint8_t buf[READ_CHUNK];
  uint32_t end = len;
  *off = 0;
  *erase = false;
  while (end > 0) {
    uint32_t n = end < READ_CHUNK ? end : READ_CHUNK;
    if (flash->read(flash->ctx, map->secondary + end - n, buf, n) != BOOT_OK) {
      return BOOT_EFLASH;
    }
    for (uint32_t i = n; i > 0; i--) {
      if (buf[i - 1] != 0xffu) {
        uint32_t last = end - n + i - 1u;
        *off = last / map->sector_size * map->sector_size;
        *erase = true;
        return BOOT_OK;
      }
    }
    end -= n;
  }
  return BOOT_OK;
}

int smp_upload_load(smp_upload_t *u, const boot_flash_t *flash, const boot_map_t *map)
{
  uint8_t record[SMP_UPLOAD_RECORD_SIZE];
  memset(u, 0, sizeof *u);
  if (flash->read(flash->ctx, record_addr(map), record, sizeof record) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  uint32_t len = le32(record + 4);
  if (le32(record) != SMP_UPLOAD_MAGIC || len == 0 || len > smp_upload_capacity(map) || record[8] > 1u) {
    return BOOT_OK;
  }
  u->len = len;
  u->has_sha = record[8] == 1u;
  memcpy(u->sha, record + 16, SMP_HASH_SIZE);
  if (scan_offset(flash, map, len, &u->off, &u->erase_at_off) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  u->active = true;
  return BOOT_OK;
}

int smp_upload_start(smp_upload_t *u, const boot_flash_t *flash, const boot_map_t *map, uint32_t len, const uint8_t *sha)
{
  uint8_t record[SMP_UPLOAD_RECORD_SIZE];
  if (len == 0 || len > smp_upload_capacity(map)) {
    return BOOT_EINVALID;
  }
  memset(u, 0, sizeof *u);
  /* The record goes first (with the trailer: any request is dropped), the image's sectors after. */
  if (boot_trailer_erase(flash, map, map->secondary) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  uint32_t sectors = (len + map->sector_size - 1u) / map->sector_size;
  for (uint32_t i = 0; i < sectors; i++) {
    if (flash->erase(flash->ctx, map->secondary + i * map->sector_size) != BOOT_OK) {
      return BOOT_EFLASH;
    }
  }
  memset(record, 0, sizeof record);
  record[0] = 'S';
  record[1] = 'M';
  record[2] = 'P';
  record[3] = 'U';
  for (int i = 0; i < 4; i++) {
    record[4 + i] = (uint8_t)(len >> (8 * i));
  }
  record[8] = sha ? 1u : 0u;
  if (sha) {
    memcpy(record + 16, sha, SMP_HASH_SIZE);
    memcpy(u->sha, sha, SMP_HASH_SIZE);
  }
  if (flash->program(flash->ctx, record_addr(map), record, sizeof record) != BOOT_OK) {
    return BOOT_EFLASH;
  }
  u->active = true;
  u->has_sha = sha != NULL;
  u->len = len;
  u->off = 0;
  return BOOT_OK;
}

int smp_upload_write(smp_upload_t *u, const boot_flash_t *flash, const boot_map_t *map, const uint8_t *data, uint32_t n)
{
  if (!u->active || n > u->len - u->off) {
    return BOOT_EINVALID;
  }
  if (u->erase_at_off && n > 0) {
    if (flash->erase(flash->ctx, map->secondary + u->off) != BOOT_OK) {
      return BOOT_EFLASH;
    }
    u->erase_at_off = false;
  }
  while (n > 0) {
    uint32_t have = u->off % BOOT_WRITE_SIZE;
    if (have == 0 && n >= BOOT_WRITE_SIZE) {
      uint32_t whole = n - n % BOOT_WRITE_SIZE;
      if (flash->program(flash->ctx, map->secondary + u->off, data, whole) != BOOT_OK) {
        return BOOT_EFLASH;
      }
      u->off += whole;
      data += whole;
      n -= whole;
      continue;
    }
    uint32_t take = BOOT_WRITE_SIZE - have < n ? BOOT_WRITE_SIZE - have : n;
    memcpy(u->tail + have, data, take);
    data += take;
    n -= take;
    bool full = have + take == BOOT_WRITE_SIZE;
    bool last = u->off + take == u->len;
    if (full || last) {
      memset(u->tail + have + take, 0xff, BOOT_WRITE_SIZE - have - take);
      if (flash->program(flash->ctx, map->secondary + u->off - have, u->tail, BOOT_WRITE_SIZE) != BOOT_OK) {
        return BOOT_EFLASH;
      }
    }
    u->off += take;
  }
  return BOOT_OK;
}

int smp_flash_sha256(const boot_flash_t *flash, uint32_t addr, uint32_t len, uint8_t out[SMP_HASH_SIZE])
{
  mbedtls_sha256_context sha;
  uint8_t chunk[READ_CHUNK];
  int rc = BOOT_OK;
  mbedtls_sha256_init(&sha);
  if (mbedtls_sha256_starts_ret(&sha, 0) != 0) {
    rc = BOOT_EINVALID;
  }
  for (uint32_t off = 0; rc == BOOT_OK && off < len; off += READ_CHUNK) {
    uint32_t n = len - off < READ_CHUNK ? len - off : READ_CHUNK;
    if (flash->read(flash->ctx, addr + off, chunk, n) != BOOT_OK) {
      rc = BOOT_EFLASH;
    } else if (mbedtls_sha256_update_ret(&sha, chunk, n) != 0) {
      rc = BOOT_EINVALID;
    }
  }
  if (rc == BOOT_OK && mbedtls_sha256_finish_ret(&sha, out) != 0) {
    rc = BOOT_EINVALID;
  }
  mbedtls_sha256_free(&sha);
  return rc;
}
