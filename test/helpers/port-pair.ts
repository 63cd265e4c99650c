// Two connected in-memory serial port ends: what one writes, the other receives on a later tick,
// in order, as a UART would deliver it. `tap` sees every chunk (for byte counts and wire checks).
import { EventEmitter } from 'node:events';
import type { SmpPort } from '../../gateway/src/smp/client.js';

export interface MemoryPort extends SmpPort {
  /** Bytes this end wrote. */
  written: number;
}

class End extends EventEmitter implements MemoryPort {
  written = 0;
  peer: End | null = null;
  constructor(private readonly tap?: (from: 'a' | 'b', chunk: Buffer) => void, private readonly name: 'a' | 'b' = 'a') {
    super();
  }
  write(data: Buffer): boolean {
    const chunk = Buffer.from(data);
    this.written += chunk.length;
    this.tap?.(this.name, chunk);
    setImmediate(() => this.peer?.emit('data', chunk));
    return true;
  }
}

export function portPair(tap?: (from: 'a' | 'b', chunk: Buffer) => void): { gateway: MemoryPort; device: MemoryPort } {
  const a = new End(tap, 'a');
  const b = new End(tap, 'b');
  a.peer = b;
  b.peer = a;
  return { gateway: a, device: b };
}
