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

/**
 * Decode one Arrow IPC stream (a message buffer) into plain row objects.
 *
 * 64-bit integers stay BigInt so large ids and counters are shown exactly;
 * timestamps become epoch milliseconds.
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
  return /** @type {Row[]} */ (tableFromIPC(bytes, { useBigInt: true }).toArray());
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
