// The kernel <-> browser message protocol of weave_nb widgets, browser side.
// The Python twin is weave_nb/widgets/_wire.py; bump both versions together.
import { tableFromIPC } from "@uwdata/flechette";

/** Version of the custom-message protocol; the kernel sends its own in the `protocol` trait. */
export const PROTOCOL_VERSION = 1;

/**
 * @typedef {Record<string, unknown>} Row  One decoded row, keyed by column name.
 * @typedef {[string, "asc" | "desc"]} SortKey
 * @typedef {{ offset: number, rows: Row[] }} Window  Consecutive rows starting at `offset`.
 */

/** Window metadata key listing the cells the kernel cut short (weave_nb/widgets/_cells.py). */
const TRUNCATED_KEY = "weave_nb.truncated";

/** Cut cells of each decoded row: column name -> full size (null for nested values). */
/** @type {WeakMap<Row, Record<string, number | null>>} */
const cutCells = new WeakMap();

/**
 * Decode one Arrow IPC stream (a message buffer) into plain row objects.
 *
 * 64-bit integers stay BigInt so large ids and counters are shown exactly;
 * timestamps become epoch milliseconds. Cells the kernel cut short are
 * remembered for {@link cutSize}.
 * @param {DataView | ArrayBuffer | Uint8Array} buffer
 * @returns {Row[]}
 */
export function decodeRows(buffer) {
  const bytes =
    buffer instanceof Uint8Array
      ? buffer
      : buffer instanceof ArrayBuffer
        ? new Uint8Array(buffer)
        : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const table = tableFromIPC(bytes, { useBigInt: true });
  const rows = /** @type {Row[]} */ (table.toArray());
  const marks = table.schema.metadata?.get(TRUNCATED_KEY);
  if (marks) {
    /** @type {Record<string, Record<string, number | null>>} */
    const byColumn = JSON.parse(marks);
    for (const [column, sizes] of Object.entries(byColumn)) {
      for (const [index, size] of Object.entries(sizes)) {
        const row = rows[Number(index)];
        if (!row) continue;
        const cut = cutCells.get(row) ?? {};
        cut[column] = size;
        cutCells.set(row, cut);
      }
    }
  }
  return rows;
}

/**
 * How the kernel cut `row[column]`: its full size (characters of text, bytes of
 * binary), `null` for a nested value, `undefined` when the cell arrived whole.
 * @param {Row} row
 * @param {string} column
 * @returns {number | null | undefined}
 */
export function cutSize(row, column) {
  const cut = cutCells.get(row);
  return cut && column in cut ? cut[column] : undefined;
}

/**
 * A value as it may travel in a JSON message: BigInt becomes a number when it
 * is exactly representable, else its decimal string.
 * @param {unknown} value
 * @returns {unknown}
 */
export function toJsonValue(value) {
  if (typeof value !== "bigint") return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}
