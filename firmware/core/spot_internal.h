/* The helpers the core's two halves share (spot.c, spot_commands.c). Not part of
 * the public API. */
#ifndef SPOT_INTERNAL_H
#define SPOT_INTERNAL_H

#include "spot.h"

typedef enum stream_phase { STREAM_SPOT_CREATE, STREAM_CONFIG_CREATE, STREAM_LIVE } stream_phase_t;

/* Persists the state through the platform (a failure is kept as the last error). */
void spot_save(spot_t *s);
void spot_console(spot_t *s, spot_log_level_t level, const char *text);
/* Numbers ev and keeps it until acknowledged (HTTP) or streamed; during
 * spot_connected() it goes in front of the events never sent, else last. */
void spot_queue_event(spot_t *s, spot_event_t *ev);
void spot_queue_log(spot_t *s, spot_log_level_t level, uint16_t code, const char *text);
/* Command reader callbacks (spot_commands.c). */
void spot_apply_command(void *ctx, spot_v1_Frame *f);
void spot_command_error(void *ctx, const char *why);

#endif
