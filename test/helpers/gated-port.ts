// A serial port end for a device stand-in that can hold back what the gateway sends, so a test can
// look at a flash job in the middle of its upload.
import { EventEmitter } from 'node:events';
import type { SmpPort } from '../../gateway/src/smp/client.js';

/**
 * The device end of the pty as the stand-in sees it, with a gate: once `holdWhen()` is true, what
 * the gateway sends is kept back until release(), so a job can be looked at in the middle.
 */
export class GatedPort extends EventEmitter implements SmpPort {
  holdWhen: (() => boolean) | null = null;
  private held: Buffer[] | null = null;
  constructor(private readonly device: SmpPort) {
    super();
    device.on('data', (chunk: Buffer) => {
      if (this.held === null && this.holdWhen?.()) this.held = [];
      if (this.held) this.held.push(chunk);
      else this.emit('data', chunk);
    });
  }
  write(data: Buffer): unknown {
    return this.device.write(data);
  }
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    this.holdWhen = null;
    for (const chunk of held) this.emit('data', chunk);
  }
}
