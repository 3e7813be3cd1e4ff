/** One line of the bench table and of results.json. */
export interface Row {
  /** `1 small publish`, `2 large publish`, … */
  readonly case: string;
  readonly name: string;
  /** The figure; null when the case could not run (see `status`). */
  readonly value: number | null;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  readonly anchor?: { readonly name: string; readonly value: number | null };
  /** value / anchor.value, same run. */
  readonly ratio?: number | null;
  readonly target?: { readonly text: string; readonly met: boolean };
  /** Why there is no figure (`not built yet`, `skipped: …`). */
  readonly status?: string;
  readonly note?: string;
}

export interface RowInput {
  readonly case: string;
  readonly name: string;
  readonly value: number | null;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  readonly anchor?: { readonly name: string; readonly value: number | null | undefined };
  /** `≤ 5` / `≥ 300` against the same unit, or a computed check with its text. */
  readonly target?: { readonly op: '≤' | '≥' | '<'; readonly value: number; readonly text?: string };
  readonly status?: string;
  readonly note?: string;
}

/** Builds a row: computes the ratio to the anchor and whether the target was met. */
export function row(input: RowInput): Row {
  const anchorValue = input.anchor?.value ?? null;
  const ratio =
    input.value !== null && anchorValue !== null && anchorValue !== 0 ? input.value / anchorValue : null;
  const target = input.target
    ? {
        text:
          input.target.text ??
          `${input.target.op} ${input.target.value.toLocaleString('en-US')} ${input.unit}`,
        met:
          input.value !== null &&
          (input.target.op === '≤'
            ? input.value <= input.target.value
            : input.target.op === '<'
              ? input.value < input.target.value
              : input.value >= input.target.value),
      }
    : undefined;
  return {
    case: input.case,
    name: input.name,
    value: input.value,
    unit: input.unit,
    better: input.better,
    ...(input.anchor ? { anchor: { name: input.anchor.name, value: anchorValue }, ratio } : {}),
    ...(target ? { target } : {}),
    ...(input.status ? { status: input.status } : {}),
    ...(input.note ? { note: input.note } : {}),
  };
}

export function formatNumber(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 10_000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

const figure = (value: number | null | undefined, unit: string) =>
  value === null || value === undefined ? '—' : `${formatNumber(value)} ${unit}`;

/** `0.31× (better)`: the ratio as measured, and which way it points for this figure. */
function formatRatio(r: Row): string {
  if (r.ratio === null || r.ratio === undefined) return r.anchor ? '—' : '';
  const good = r.better === 'higher' ? r.ratio >= 1 : r.ratio <= 1;
  const times = r.ratio >= 100 ? r.ratio.toFixed(0) : r.ratio.toFixed(2);
  return `${times}× (${good ? 'better' : 'worse'})`;
}

/** A plain-text table, one row per figure, every target beside its figure. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['case', 'measure', 'Arca', 'anchor', 'anchor figure', 'ratio', 'target'];
  const lines = rows.map((r) => [
    r.case,
    r.name,
    r.status ?? figure(r.value, r.unit),
    r.anchor?.name ?? '',
    r.anchor ? figure(r.anchor.value, r.unit) : '',
    formatRatio(r),
    r.target ? `${r.target.text} ${r.status ? '—' : r.target.met ? 'met' : 'MISSED'}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return [render(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(render)].join('\n');
}
