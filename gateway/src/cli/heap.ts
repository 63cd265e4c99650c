// How far V8 lets the heap grow past what is alive. By default it grows to about four times the
// live data under allocation pressure: the gateway's live heap stays near 35 MB under full load
// (every queue is bounded), yet V8 held 170 MB and the process 290 MB. Growth of 50 % after each
// full collection keeps the process near 200 MB at the same throughput (docs/architecture.md,
// "Memory"); more frequent major collections are the price (incremental, ~10 ms each).
import v8 from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;

const USER_HEAP_FLAGS = /^--(heap[-_]growing[-_]percent|max[-_]old[-_]space[-_]size|max[-_]heap[-_]size)\b/;

/**
 * Sets the growth unless the operator chose a heap flag (node arguments or NODE_OPTIONS), which
 * then wins. Returns the flag set, or null.
 */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string | null {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => USER_HEAP_FLAGS.test(arg));
  if (given) return null;
  const flag = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  v8.setFlagsFromString(flag);
  return flag;
}
