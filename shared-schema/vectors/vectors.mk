# Conformance vectors. Included by the top-level Makefile.
.PHONY: vectors

# Regenerates shared-schema/vectors/*.json from the cases in generate.ts (review the diff).
vectors: npm-deps schema-ts
	node --import tsx shared-schema/vectors/generate.ts
