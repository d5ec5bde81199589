// Pure layout of the trace view: waterfall bars, time-axis ticks, durations,
// and which blocks of a trace's outline to fetch. No DOM; tested under vitest.

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
