// Packet ids of one connection: its publishes and subscribes.

export class PacketIds {
  /** 1 where the id is in use (a Set churned its table at tens of thousands of ids a second). */
  private readonly used = new Uint8Array(65536);
  private count = 0;
  private last = 0;

  allocate(): number | null {
    if (this.count >= 65535) return null;
    let id = this.last;
    do id = id >= 65535 ? 1 : id + 1;
    while (this.used[id] === 1);
    this.used[id] = 1;
    this.count++;
    this.last = id;
    return id;
  }

  deallocate(id: number): void {
    if (this.used[id] !== 1) return;
    this.used[id] = 0;
    this.count--;
  }

  get inUse(): number {
    return this.count;
  }
}
