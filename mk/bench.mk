# Benchmarks: they print figures; they are not tests.
.PHONY: bench-gateway
bench-gateway: setup build-ts
	node --import tsx bench/gateway/run.ts
