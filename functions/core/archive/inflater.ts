import { createGunzip, createInflateRaw, type Gunzip, type InflateRaw } from 'node:zlib';

/**
 * Input is handed to zlib this many bytes at a time, so one write inflates to at most ~1,000× this
 * (deflate's ceiling): the inflated chunks of one write are held until the caller has scanned them,
 * and this keeps that bounded (16 MiB) at every level of a nested archive.
 */
const SLICE = 16 * 1024;

/**
 * zlib's streaming inflater, driven one awaited write at a time so the caller can scan what came out
 * (possibly asynchronously, possibly another archive) before more goes in. A raw deflate stream ends
 * by itself: `write` says how many input bytes it took, so a zip entry whose size only follows its
 * data (a data descriptor) ends where its deflate stream does.
 */
export class Inflater {
  private readonly zlib: Gunzip | InflateRaw;
  private readonly raw: boolean;
  private out: Buffer[] = [];
  ended = false;
  error: string | undefined;

  constructor(kind: 'gzip' | 'raw') {
    this.raw = kind === 'raw';
    this.zlib = kind === 'gzip' ? createGunzip() : createInflateRaw();
    this.zlib.on('data', (chunk: Buffer) => this.out.push(chunk));
    this.zlib.on('end', () => {
      this.ended = true;
    });
    this.zlib.on('error', (error) => {
      this.error ??= error.message;
    });
  }

  /**
   * Feeds `input`, calling `inflated` with the output of each slice before the next goes in.
   * Answers how many input bytes the stream took: fewer than given when it ended inside `input`.
   */
  async write(input: Buffer, inflated: (chunk: Buffer) => void | Promise<void>): Promise<number> {
    let taken = 0;
    // A gzip file is fed to its end even past the stream's: zlib accepts zero padding there and
    // fails on anything else, which is what should happen to bytes nobody would read.
    for (let at = 0; at < input.length && (!this.raw || !this.ended) && !this.error; at += SLICE) {
      const before = this.zlib.bytesWritten;
      await this.settle((done) => this.zlib.write(input.subarray(at, at + SLICE), done));
      taken += this.zlib.bytesWritten - before;
      await this.hand(inflated);
      if (this.raw && this.zlib.bytesWritten - before < Math.min(SLICE, input.length - at)) {
        // zlib stops taking input only at the end of the deflate stream; its 'end' event may come a
        // tick later, so the end is recorded here.
        this.ended = true;
        break;
      }
    }
    return taken;
  }

  /** The end of the input: flushes what zlib still holds (a truncated stream sets `error`). */
  async end(inflated: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    if (!this.zlib.destroyed && !this.zlib.writableEnded) {
      // Past its end the readable side has already ended: only the writable side is left to close.
      const event = this.ended ? 'finish' : 'end';
      await this.settle((done) => {
        this.zlib.once(event, done);
        this.zlib.end();
      });
    }
    await this.hand(inflated);
  }

  destroy(): void {
    this.out = [];
    this.zlib.destroy();
  }

  private async hand(inflated: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    const out = this.out;
    this.out = [];
    for (const chunk of out) {
      const pending = inflated(chunk);
      if (pending) await pending;
    }
  }

  /** A stream destroyed by an error never calls back: its 'close' settles the wait. */
  private settle(start: (done: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.zlib.off('close', done);
        resolve();
      };
      this.zlib.once('close', done);
      start(done);
    });
  }
}
