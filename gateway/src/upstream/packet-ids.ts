// Packet ids shared by mqtt.js (its own publishes, subscribes) and the forwarder's batched publishes.
/** Satisfies mqtt.js's IMessageIdProvider (option messageIdProvider). */
export class PacketIds {
  private readonly used = new Set<number>();
  private last = 0;

  allocate(): number | null {
    if (this.used.size >= 65535) return null;
    let id = this.last;
    do id = id >= 65535 ? 1 : id + 1;
    while (this.used.has(id));
    this.used.add(id);
    this.last = id;
    return id;
  }

  getLastAllocated(): number | null {
    return this.last === 0 ? null : this.last;
  }

  register(id: number): boolean {
    if (this.used.has(id)) return false;
    this.used.add(id);
    return true;
  }

  deallocate(id: number): void {
    this.used.delete(id);
  }

  clear(): void {
    this.used.clear();
  }

  get inUse(): number {
    return this.used.size;
  }
}
