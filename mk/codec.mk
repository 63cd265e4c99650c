# Spot-protocol codecs: conformance vectors and the codec benchmark.
.PHONY: vectors bench-codec

# Regenerates shared-schema/vectors/*.json from the cases in generate.ts (review the diff).
vectors: npm-deps schema-ts
	node --import tsx shared-schema/vectors/generate.ts

# Compiled with tsc (as the gateway runs), not through tsx. Prints, last:
# codec: json_decode_eps=<n> pb_decode_eps=<n> pb_bytes_ratio=<r>
bench-codec: npm-deps schema-ts
	$(NODE_BIN)/tsc -p bench/codec/tsconfig.json
	node build/bench-codec/bench/codec/bench.js
