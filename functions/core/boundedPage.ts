import type { Page } from '../ports.ts';

/**
 * A page of described items, never larger (as JSON) than `maxBytes`, unless its first item alone is.
 * A listing reads `limit` records and describes them; when the answer would be larger, it reads
 * again with the number that fits, so its `next` position follows the last item answered (the
 * index's positions are its own: a page cannot be cut after it was read). A version of 1,000 files
 * whose names are 512 characters describes to ~700 KB: a hundred of them would be ~70 MB, more than
 * any client wants in one answer and over a Lambda response's 6 MB.
 */
export async function boundedPage<R, T>(
  limit: number,
  maxBytes: number,
  read: (limit: number) => Promise<Page<R>>,
  describe: (records: readonly R[]) => Promise<T[]>,
): Promise<{ items: T[]; next?: string }> {
  let wanted = limit;
  for (;;) {
    const page = await read(wanted);
    const items = await describe(page.items);
    const fitting = countWithin(items, maxBytes);
    // A second read may find newer items at the head: it is described and measured again.
    if (fitting >= items.length || wanted === 1)
      return { items, ...(page.next === undefined ? {} : { next: page.next }) };
    wanted = Math.max(1, fitting);
  }
}

/** How many of `items`, from the first, fit in `maxBytes` of JSON (at least one). */
function countWithin(items: readonly unknown[], maxBytes: number): number {
  let bytes = 2;
  for (const [i, item] of items.entries()) {
    bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (bytes > maxBytes) return Math.max(1, i);
  }
  return items.length;
}
