/* Spot-protocol JSON <-> one nanopb Frame: ["resource","action",{...}] + "\n\n". */
#ifndef FRAME_JSON_H
#define FRAME_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spot.pb.h"

/* Encodes f as the vendor frames it (compact, then an empty line).
 * Returns the byte count, 0 if it does not fit in cap. */
size_t frame_json_encode(const spot_v1_Frame *f, uint8_t *buf, size_t cap);

/* Decodes one JSON event (the triple, surrounding whitespace allowed) into f.
 * Keys the schema does not know, and values that do not fit their type, go to
 * extra_json; an event the schema does not define becomes `generic`.
 * On failure returns false with a reason in why (e.g. "not a [string,string,object] triple"). */
bool frame_json_decode(const char *text, size_t len, spot_v1_Frame *f, const char **why);

#endif
