// Events per second over a recent window, from one-second buckets.

export class RateMeter {
  private readonly buckets: number[];
  private lastSecond = 0;

  constructor(
    private readonly now: () => number,
    private readonly windowSeconds = 5,
  ) {
    this.buckets = new Array<number>(windowSeconds + 1).fill(0);
  }

  add(count: number): void {
    this.roll();
    this.buckets[this.lastSecond % this.buckets.length]! += count;
  }

  /** Average over the last `windowSeconds` complete seconds. */
  perSecond(): number {
    this.roll();
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      if (i !== this.lastSecond % this.buckets.length) sum += this.buckets[i]!;
    }
    return sum / this.windowSeconds;
  }

  private roll(): void {
    const second = Math.floor(this.now() / 1000);
    if (this.lastSecond === 0) this.lastSecond = second;
    const steps = Math.min(second - this.lastSecond, this.buckets.length);
    for (let i = 1; i <= steps; i++) this.buckets[(this.lastSecond + i) % this.buckets.length] = 0;
    if (second > this.lastSecond) this.lastSecond = second;
  }
}
