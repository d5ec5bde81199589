// Pure layout of the trace view: waterfall bars, time-axis ticks, durations,
// which blocks of a trace's outline to fetch, and the order of a call's
// details. No DOM; tested under vitest.

/** @typedef {import("../shared/protocol.js").ColumnInfo} ColumnInfo */

/** Spans per outline request: the browser holds only the blocks around what it shows. */
export const SPAN_BLOCK = 100;

/** Narrowest bar drawn, in percent of the axis, so instant spans stay visible. */
const MIN_BAR_PERCENT = 0.4;

/**
 * Where a span's bar sits on the trace's time axis, in percent of its width.
 * @param {number | null | undefined} offsetMs  start, relative to the trace's start.
 * @param {number | null | undefined} durationMs
 * @param {number} totalMs  the trace's whole duration.
 * @returns {{ left: number, width: number }}
 */
export function barGeometry(offsetMs, durationMs, totalMs) {
  if (!(totalMs > 0)) return { left: 0, width: 100 };
  const clamp = (/** @type {number} */ v) => Math.min(100, Math.max(0, v));
  const left = Math.min(clamp(((offsetMs ?? 0) / totalMs) * 100), 100 - MIN_BAR_PERCENT);
  const width = Math.max(MIN_BAR_PERCENT, clamp(((durationMs ?? 0) / totalMs) * 100));
  return { left, width: Math.min(width, 100 - left) };
}

/**
 * Round tick values for a time axis from 0 to `totalMs`, at most `most` of them.
 * @param {number} totalMs
 * @param {number} [most]
 * @returns {number[]}
 */
export function axisTicks(totalMs, most = 5) {
  if (!(totalMs > 0)) return [0];
  const raw = totalMs / most;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  /** @type {number[]} */
  const ticks = [];
  for (let t = 0; t <= totalMs + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/**
 * A duration for people: `850 µs`, `12.3 ms`, `1.24 s`, `2 min 5 s`.
 * @param {number | null | undefined} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 100) return `${Number(ms.toPrecision(3))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toPrecision(3))} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

/**
 * Starts of the outline blocks covering spans [first, first + count) of `total`.
 * @param {number} first
 * @param {number} count
 * @param {number} total
 * @param {number} [block]
 * @returns {number[]}
 */
export function blocksFor(first, count, total, block = SPAN_BLOCK) {
  const last = Math.min(total, first + count) - 1;
  /** @type {number[]} */
  const starts = [];
  if (last < first) return starts;
  for (let b = Math.floor(first / block) * block; b <= last; b += block) starts.push(b);
  return starts;
}

/**
 * Blocks to drop from a cache holding `cached`, keeping the `keep` nearest to `around`.
 * @param {number[]} cached  block starts.
 * @param {number} around  a span index in view.
 * @param {number} keep
 * @returns {number[]}
 */
export function blocksToDrop(cached, around, keep) {
  if (cached.length <= keep) return [];
  const byDistance = [...cached].sort((a, b) => Math.abs(a - around) - Math.abs(b - around));
  return byDistance.slice(keep);
}

/** Fields shown first in a call's details, in this order; the rest follow. */
const DETAIL_FIRST = [
  "name", "status", "exception", "latency_ms", "start_time", "session_id", "span_kind", "model",
  "input_tokens", "output_tokens", "total_tokens", "cost_usd", "inputs", "output", "attributes",
];
/** Fields the outline already shows or that only link rows. */
const DETAIL_SKIP = new Set(["_client_id", "_timestamp", "end_time", "trace_id"]);

/**
 * A call's details in the order shown: the important fields first, empty ones
 * left out; `error` marks the column the kernel gave the error role (why the call failed).
 * @param {Record<string, unknown>} row
 * @param {ColumnInfo[]} columns  the span reply's columns.
 * @returns {{ column: ColumnInfo, value: unknown, error: boolean }[]}
 */
export function detailFields(row, columns) {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const names = [
    ...DETAIL_FIRST.filter((n) => byName.has(n)),
    ...columns.map((c) => c.name).filter((n) => !DETAIL_FIRST.includes(n) && !DETAIL_SKIP.has(n)),
  ];
  return names.flatMap((name) => {
    const value = row[name];
    const column = /** @type {ColumnInfo} */ (byName.get(name));
    return value === null || value === undefined ? [] : [{ column, value, error: column.role === "error" }];
  });
}
