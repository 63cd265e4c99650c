# Benchmarks: they print figures; they are not tests. Included by the top-level Makefile.
.PHONY: bench-codec bench-gateway bench-scale bench-tools bench-flash bench-ws

# Compiled with tsc (as the gateway runs), not through tsx. Prints, last:
# codec: json_decode_eps=<n> pb_decode_eps=<n> pb_bytes_ratio=<r>
# garbage_pb_mb_s=<n> garbage_json_mb_s=<n> (1 MB of zero bytes, MB per CPU-second)
# garbage_worst_pb_mb_s=<n> garbage_worst_pb=<kind> garbage_worst_json_mb_s=<n> garbage_worst_json=<kind>
# (the slowest of the garbage kinds in test/bench/codec/garbage.ts) valid_pb_mb_s=<n> valid_json_mb_s=<n>
# (the ceilings: each decoder on the valid stream) scan_mb_s=<n> (a bare byte loop)
bench-codec: npm-deps schema-ts
	$(NODE_BIN)/tsc -p test/bench/codec/tsconfig.json
	node test/bench/build/codec/test/bench/codec/bench.js

# Prints, last: gateway: stored_eps=<n> forwarded_eps=<n> null_sink_eps=<n> ratio=<r> p99_ms=<n> rss_mb=<n>
# latency_rss_mb=<n> cpu_us_per_event=<n> (the gateway's CPU time per stored event in the throughput phase)
# p99_after_commit_ms=<n> (the latency phase again with buffer.forward after-commit) fsync_p99_ms=<n>
# upstream_p99_ms=<n> (the gateway's own view: decoded -> PUBACK handled) decode_sink_eps=<n> ratio_to_decode=<r>
bench-gateway: setup build-ts bench-tools
	node --import tsx test/bench/gateway/run.ts

# The WebSocket spot transport (docs/websocket.md) on a spawned gateway: BENCH_WS_SPOTS (20) spots
# over WebSocket, then as many posting (the C load generator), each as fast as the gateway takes,
# stored events/s over BENCH_WS_SECONDS (8); then BENCH_WS_COMMANDS (200) commands, API call -> the
# spot has it, over WebSocket and to spots posting once a second. Prints first the ceilings (the JSON
# decoder alone on the same messages, a bare ws echo round trip), what a command's writes hold the
# event loop for on a store alone (ws-command-writes: enqueue, markDelivered, enqueue until durable,
# BENCH_WS_COMMANDS times) and the ratios, last:
# ws: command_latency_p50_ms=<n> command_latency_p99_ms=<n> http_command_latency_p50_ms=<n> ws_stored_eps=<n> http_stored_eps=<n>
bench-ws: setup build-ts bench-tools
	node --import tsx test/bench/ws/run.ts

# A gateway that has seen BENCH_SCALE_SPOTS (100000) distinct spots, idle but for one pending event
# (real posts, a real Mosquitto stopped before that event); first the same posts from
# BENCH_SCALE_BASELINE_SPOTS (100; 0 skips it) as the baseline. Prints, last:
# scale: known_spots=<n> idle_cpu_pct=<n> healthz_ms=<n> metrics_ms=<n> rss_mb=<n>
bench-scale: setup build-ts
	node --import tsx test/bench/scale/run.ts

# The load generator and the latency consumer, in C so they take little of the CPU they measure.
BENCH_TOOLS := test/bench/build/loadgen test/bench/build/latency-consumer
BENCH_CC ?= gcc
BENCH_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror

test/bench/build/%: test/bench/gateway/%.c
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $<

# The load generator is three files; its headers are listed so that editing one rebuilds it.
LOADGEN_SOURCES := $(addprefix test/bench/gateway/,loadgen.c loadgen-events.c loadgen-args.c)
LOADGEN_HEADERS := $(addprefix test/bench/gateway/,loadgen-events.h loadgen-args.h)

test/bench/build/loadgen: $(LOADGEN_SOURCES) $(LOADGEN_HEADERS)
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $(LOADGEN_SOURCES)

bench-tools: $(BENCH_TOOLS)

# A signed image of the mps2 app (about 53 KiB) uploaded over the QEMU pty to the spot's own SMP
# server, then an upload cut at half and resumed; before it the ceiling: a UART echo firmware on the
# same pty (bytes into the guest and back per second). Prints, last:
# flash-ceiling: uart_bytes_per_s=<n> ratio=<bytes_per_s / uart_bytes_per_s>
# flash: image_bytes=<n> seconds=<s> bytes_per_s=<n> payload_efficiency=<r> resume_ok=<0|1>
bench-flash: build-ts firmware-mps2 firmware-mps2-boot
	node --import tsx test/bench/flash/run.ts
