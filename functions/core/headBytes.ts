/**
 * The first bytes of a stream, gathered from chunks of any size: what a scanner needs to recognise a
 * format before it decides what to do with the rest.
 */
export class HeadBytes {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly wanted: number) {}

  /** Whether `wanted` bytes have arrived. */
  get complete(): boolean {
    return this.length >= this.wanted;
  }

  /** Keeps `chunk` (whole) until `wanted` bytes have arrived; answers whether they have. */
  add(chunk: Buffer): boolean {
    if (this.complete) return true;
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this.complete;
  }

  /** Everything kept so far as one buffer (it can run past `wanted`), and forgets it. */
  take(): Buffer {
    const bytes = Buffer.concat(this.chunks);
    this.chunks = [];
    return bytes;
  }
}
