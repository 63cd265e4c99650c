/* Compile-time sizes of the core. Override with -D for small targets (mps2). */
#ifndef SPOT_LIMITS_H
#define SPOT_LIMITS_H

/* Items the presence engine tracks at once. */
#ifndef SPOT_MAX_ITEMS
#define SPOT_MAX_ITEMS 64
#endif
/* Signal readings averaged per item (caps rfid_max_window_size). */
#ifndef SPOT_MAX_WINDOW
#define SPOT_MAX_WINDOW 16
#endif
/* Events kept until acknowledged (retransmit ring). */
#ifndef SPOT_RING_EVENTS
#define SPOT_RING_EVENTS 256
#endif
/* Bytes of one encoded event (config create is the largest). */
#ifndef SPOT_EVENT_BYTES
#define SPOT_EVENT_BYTES 2048
#endif
/* Bytes of one command message buffered before it is parsed. */
#ifndef SPOT_COMMAND_BYTES
#define SPOT_COMMAND_BYTES 1536
#endif
/* 1 = stream commands get their own reader (SPOT_COMMAND_BYTES more RAM); bare
 * metal (mps2) has the UART as its only input, so it shares the one reader. */
#ifndef SPOT_STREAM_COMMAND_READER
#if __STDC_HOSTED__
#define SPOT_STREAM_COMMAND_READER 1
#else
#define SPOT_STREAM_COMMAND_READER 0
#endif
#endif
/* 1 = events can be posted over HTTP (spot_post_*: SPOT_EVENT_BYTES more RAM for the
 * post's outbox); the mps2 board streams over its UART only and builds without. */
#ifndef SPOT_HTTP_POST
#define SPOT_HTTP_POST 1
#endif
/* Item codes one PB stream remembers for references (protocol max 64). */
#ifndef SPOT_ITEM_TABLE
#define SPOT_ITEM_TABLE 64
#endif
/* Simulated tags a scenario may name. */
#ifndef SPOT_SIM_TAGS
#define SPOT_SIM_TAGS 32
#endif
/* Item code text, NUL included (EPC Gen2: 24 hex digits; up to 256 bits). */
#ifndef SPOT_ITEM_CODE_MAX
#define SPOT_ITEM_CODE_MAX 65
#endif
/* Longest JSON key or scalar string the command reader takes. */
#ifndef SPOT_JSON_TEXT_MAX
#define SPOT_JSON_TEXT_MAX 136
#endif
#define SPOT_XSTR(x) #x
#define SPOT_STR(x) SPOT_XSTR(x)
#define SPOT_URL_MAX 128
#define SPOT_VERSION_MAX 32
#define SPOT_LOG_TEXT_MAX 128

#endif
