/* The text rule of shared-schema/spot-config.json's string keys, as the gateway
 * checks it: UTF-8 without control characters (U+0000..U+001F, U+007F..U+009F)
 * or unpaired surrogates, or visible ASCII only (U+0021..U+007E); at least
 * min_len bytes. The longest is the caller's (the field's size). */
#ifndef CONFIG_TEXT_H
#define CONFIG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* True when text keeps the rule; else appends the reason to why (" holds U+000A
 * (line feed) at character 4 (visible ASCII only), rejected"). */
bool config_text_ok(const char *text, size_t min_len, bool visible_ascii, text_t *why);

#endif
