/* State directory as the spot's flash: one file, replaced atomically. */
#define _POSIX_C_SOURCE 200809L
#include "flash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FILE "state.bin"

bool flash_load(const char *dir, uint8_t *buf, size_t cap, size_t *len, char *reason, size_t reason_cap)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(reason, reason_cap, "%s: %s (factory defaults)", path, strerror(errno));
    return false;
  }
  size_t got = 0;
  int err = 0;
  while (got < cap && err == 0) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n == 0) {
      break;
    }
    if (n > 0) {
      got += (size_t)n;
    } else if (errno != EINTR) {
      err = errno;
    }
  }
  close(fd);
  if (err != 0) {
    snprintf(reason, reason_cap, "%s: %s (factory defaults)", path, strerror(err));
    return false;
  }
  *len = got;
  return true;
}

bool flash_save(const char *dir, const uint8_t *record, size_t len, char *reason, size_t reason_cap)
{
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  mkdir(dir, 0755);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(reason, reason_cap, "%s: %s", tmp, strerror(errno));
    return false;
  }
  bool ok = write(fd, record, len) == (ssize_t)len && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok || rename(tmp, path) != 0) {
    snprintf(reason, reason_cap, "%s: %s", path, strerror(ok ? errno : err));
    unlink(tmp);
    return false;
  }
  return true;
}
