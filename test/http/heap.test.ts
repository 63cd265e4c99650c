import test from 'ava';
import { HEAP_GROWING_PERCENT, tuneHeap } from '../../gateway/src/cli/heap.js';

test('the gateway bounds V8 heap growth unless the operator gave a heap flag of their own', (t) => {
  t.is(tuneHeap([], ''), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  t.is(tuneHeap(['--max-old-space-size=96'], ''), null, 'node argument');
  t.is(tuneHeap([], '--enable-source-maps --max_old_space_size=128'), null, 'NODE_OPTIONS, underscores');
  t.is(tuneHeap([], '--heap-growing-percent=20'), null);
  t.is(tuneHeap(['--max-heap-size=200'], ''), null);
  t.is(tuneHeap(['--max-semi-space-size=4'], '--trace-gc'), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, 'other flags do not count');
});
