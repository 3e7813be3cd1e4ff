/**
 * The ZIP64 extended-information extra field (id 1) shared by local and central headers: it holds,
 * in order, the 64-bit value of each header field that is saturated (0xffffffff).
 */

const SATURATED = 0xffffffff;

/**
 * Replaces each saturated value of `fields` (in the order the format lists them: uncompressed size,
 * compressed size, local header offset) by the next 64-bit value of the ZIP64 record in `extra`.
 * A record may declare more bytes than the extra field holds: it is read only as far as it goes, and
 * a field it lacks stays saturated. Answers undefined when `extra` holds no ZIP64 record.
 */
export function applyZip64Extra(extra: Buffer, fields: readonly number[]): number[] | undefined {
  for (let at = 0; at + 4 <= extra.length; ) {
    const length = extra.readUInt16LE(at + 2);
    if (extra.readUInt16LE(at) !== 1) {
      at += 4 + length;
      continue;
    }
    const end = Math.min(at + 4 + length, extra.length);
    let field = at + 4;
    return fields.map((value) => {
      if (value !== SATURATED || field + 8 > end) return value;
      field += 8;
      return Number(extra.readBigUInt64LE(field - 8));
    });
  }
  return undefined;
}
