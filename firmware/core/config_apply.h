/* Config values <-> PB Config messages, and validated updates from commands. */
#ifndef CONFIG_APPLY_H
#define CONFIG_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "spot.pb.h"
#include "spot_config_gen.h"

#define CONFIG_ALL_KEYS (SPOT_CONFIG_KEY_COUNT >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << SPOT_CONFIG_KEY_COUNT) - 1))

/* Writes the keys in mask (bit i = spot_config_keys[i]) into m, marking them present. */
void config_to_pb(const spot_config_t *c, uint64_t mask, spot_v1_Config *m);

/* Called once per key that was not applied, with a reason a person can act on. */
typedef void (*config_reject_fn)(void *ctx, bool unknown_key, const char *reason);

/* Applies every key present in m (and those in its extra_json) to c after
 * validating each against the key table; bad values and unknown keys are
 * reported through reject and leave c unchanged. Returns the changed-keys mask. */
uint64_t config_apply_pb(spot_config_t *c, const spot_v1_Config *m, config_reject_fn reject, void *ctx);

/* Puts every key of c that is out of its range or type (a corrupt or older
 * flash image) back to its factory default; returns the mask of keys fixed.
 * defaults is room for the factory defaults (no big stack on small targets). */
uint64_t config_sanitize(spot_config_t *c, spot_config_t *defaults);

/* True if text is a dotted quad (0..255 each). */
bool config_is_ipv4(const char *text);

#endif
