/**
 * Transfer progress: one bar per file (bytes, rate, ETA) on a terminal, plain lines in CI logs,
 * nothing with --quiet. Always on stderr, so stdout stays clean for --json.
 */
export interface FileProgress {
  /** Bytes moved (negative to roll back a failed attempt). */
  add(bytes: number): void;
  finish(note?: string): void;
}

export interface Progress {
  file(label: string, total: number): FileProgress;
  /** A line of its own (above the bars on a terminal). */
  note(line: string): void;
  close(): void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(n)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const formatSeconds = (s: number) =>
  !Number.isFinite(s)
    ? '--'
    : s >= 3600
      ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${Math.floor(s % 60)}s`
        : `${Math.ceil(s)}s`;

class Bar implements FileProgress {
  bytes = 0;
  done?: string;
  readonly started = performance.now();
  ended?: number;

  constructor(
    readonly label: string,
    readonly total: number,
    private readonly onFinish: (bar: Bar) => void,
  ) {}

  add(bytes: number): void {
    this.bytes += bytes;
  }

  finish(note = 'done'): void {
    if (this.done !== undefined) return;
    this.done = note;
    this.ended = performance.now();
    this.onFinish(this);
  }

  rate(): number {
    const seconds = ((this.ended ?? performance.now()) - this.started) / 1000;
    return seconds > 0 ? this.bytes / seconds : 0;
  }

  summary(): string {
    const seconds = ((this.ended ?? performance.now()) - this.started) / 1000;
    return `${this.label}: ${this.done ?? 'in progress'}, ${formatBytes(this.bytes)} in ${seconds.toFixed(1)}s (${formatBytes(this.rate())}/s)`;
  }

  render(width: number): string {
    const fraction = this.total > 0 ? Math.min(1, this.bytes / this.total) : 1;
    const rate = this.rate();
    const tail = this.done
      ? ` ${formatBytes(this.total)} ${this.done}`
      : ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(this.bytes)}/${formatBytes(this.total)} ${formatBytes(rate)}/s ETA ${formatSeconds((this.total - this.bytes) / rate)}`;
    const label = this.label.length > 28 ? `…${this.label.slice(-27)}` : this.label.padEnd(28);
    const barWidth = Math.max(10, Math.min(40, width - label.length - tail.length - 4));
    const filled = Math.round(fraction * barWidth);
    return `${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`.slice(0, width - 1);
  }
}

class TtyProgress implements Progress {
  private readonly bars: Bar[] = [];
  private drawn = 0;
  private readonly timer = setInterval(() => this.draw(), 100).unref();

  constructor(private readonly out: NodeJS.WriteStream) {}

  file(label: string, total: number): FileProgress {
    const bar = new Bar(label, total, () => this.draw());
    this.bars.push(bar);
    return bar;
  }

  note(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.draw();
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const width = this.out.columns || 100;
    this.clear();
    this.out.write(this.bars.map((b) => `${b.render(width)}\n`).join(''));
    this.drawn = this.bars.length;
  }

  close(): void {
    clearInterval(this.timer);
    this.draw();
  }
}

/** CI logs: one line when a file starts, every ~10 s while it runs, and one when it ends. */
class LineProgress implements Progress {
  private readonly timer = setInterval(() => this.tick(), 10_000).unref();
  private readonly active = new Set<Bar>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  file(label: string, total: number): FileProgress {
    this.out.write(`${label}: ${formatBytes(total)}\n`);
    const bar = new Bar(label, total, (b) => {
      this.active.delete(b);
      this.out.write(`${b.summary()}\n`);
    });
    this.active.add(bar);
    return bar;
  }

  private tick(): void {
    for (const bar of this.active) {
      const pct = bar.total > 0 ? Math.floor((bar.bytes / bar.total) * 100) : 100;
      this.out.write(`${bar.label}: ${pct}% (${formatBytes(bar.rate())}/s)\n`);
    }
  }

  note(line: string): void {
    this.out.write(`${line}\n`);
  }

  close(): void {
    clearInterval(this.timer);
  }
}

const silentFile: FileProgress = { add: () => {}, finish: () => {} };
const silent: Progress = { file: () => silentFile, note: () => {}, close: () => {} };

/** Bars when stderr is a terminal (and not CI), lines otherwise, nothing when quiet. */
export function createProgress(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (quiet) return silent;
  return stream.isTTY && !process.env['CI'] ? new TtyProgress(stream) : new LineProgress(stream);
}
