// Virtual scrolling math and the cache of row windows. Pure logic (no DOM),
// unit-tested under vitest.

/** @typedef {import("../shared/protocol.js").Row} Row */

/**
 * Tallest scroll area we create. Browsers cap element heights (Firefox near
 * 17.9M px), so past this the scrollbar maps proportionally onto rows.
 */
export const MAX_SCROLL_PX = 8_000_000;

/**
 * Height of the scrollable body for `total` rows.
 * @param {number} total
 * @param {number} rowHeight
 * @returns {number}
 */
export function bodyHeight(total, rowHeight) {
  return Math.min(total * rowHeight, MAX_SCROLL_PX);
}

/**
 * Which rows are visible and where to draw them.
 * @param {{ scrollTop: number, viewportHeight: number, rowHeight: number, total: number }} view
 * @returns {{ first: number, count: number, top: number }}
 *   `first` visible row index, `count` rows to draw (one extra for partial rows),
 *   `top` the pixel offset in the body where row `first` starts.
 */
export function visibleRange({ scrollTop, viewportHeight, rowHeight, total }) {
  const maxScroll = Math.max(0, bodyHeight(total, rowHeight) - viewportHeight);
  const maxFirst = Math.max(0, total - viewportHeight / rowHeight);
  const clamped = Math.min(Math.max(0, scrollTop), maxScroll);
  // Fractional row at the top edge; equals scrollTop / rowHeight when unscaled.
  const position = maxScroll > 0 ? (clamped / maxScroll) * maxFirst : 0;
  const first = Math.min(Math.floor(position), Math.max(0, total - 1));
  const count = Math.max(0, Math.min(total - first, Math.ceil(viewportHeight / rowHeight) + 1));
  return { first, count, top: clamped - (position - first) * rowHeight };
}

/**
 * Whether the viewport shows the last row (within half a row).
 * @param {{ scrollTop: number, viewportHeight: number, rowHeight: number, total: number }} view
 * @returns {boolean}
 */
export function isAtBottom({ scrollTop, viewportHeight, rowHeight, total }) {
  const maxScroll = bodyHeight(total, rowHeight) - viewportHeight;
  return scrollTop >= maxScroll - rowHeight / 2;
}

/**
 * The range to fetch so that rows [first, first + count) and a viewport of
 * margin on each side are loaded, aligned to `block` rows so that nearby
 * scroll positions ask for the same windows.
 * @param {number} first
 * @param {number} count
 * @param {number} total
 * @param {number} [block]
 * @returns {{ offset: number, limit: number }}
 */
export function fetchRange(first, count, total, block = 100) {
  const lo = Math.floor(Math.max(0, first - count) / block) * block;
  const hi = Math.min(total, Math.ceil((first + 2 * count) / block) * block);
  return { offset: lo, limit: Math.max(0, hi - lo) };
}

/**
 * @typedef {object} CachedWindow
 * @property {number} offset   Index of the first row.
 * @property {Row[]} rows
 * @property {number} version  Table version the rows were read at.
 */

/** A few windows of rows, most recent first; older windows are evicted. */
export class WindowCache {
  /** @param {number} [capacity] how many windows to keep. */
  constructor(capacity = 4) {
    this.capacity = capacity;
    /** @type {CachedWindow[]} */
    this.windows = [];
  }

  /**
   * Forget every window.
   * @returns {CachedWindow[]} the evicted windows.
   */
  clear() {
    const evicted = this.windows;
    this.windows = [];
    return evicted;
  }

  /**
   * Add a window; windows it fully covers and the least recent ones beyond
   * the capacity are evicted.
   * @param {CachedWindow} window
   * @returns {CachedWindow[]} the evicted windows.
   */
  put(window) {
    const end = window.offset + window.rows.length;
    /** @type {CachedWindow[]} */
    const evicted = [];
    const kept = this.windows.filter((w) => {
      const covered = w.offset >= window.offset && w.offset + w.rows.length <= end;
      if (covered) evicted.push(w);
      return !covered;
    });
    this.windows = [window, ...kept];
    evicted.push(...this.windows.splice(this.capacity));
    return evicted;
  }

  /**
   * The window holding row `index` (the most recent one if several do).
   * @param {number} index
   * @returns {CachedWindow | undefined}
   */
  windowOf(index) {
    return this.windows.find((w) => index >= w.offset && index < w.offset + w.rows.length);
  }

  /**
   * Row `index`, if cached.
   * @param {number} index
   * @returns {Row | undefined}
   */
  row(index) {
    const w = this.windowOf(index);
    return w?.rows[index - w.offset];
  }

  /**
   * Whether rows [first, first + count) are all cached, and whether all of
   * them were read at `version` or later.
   * @param {number} first
   * @param {number} count
   * @param {number} version
   * @returns {{ complete: boolean, fresh: boolean }}
   */
  coverage(first, count, version) {
    let complete = true;
    let fresh = true;
    for (let i = first; i < first + count; i++) {
      const w = this.windowOf(i);
      if (!w) complete = false;
      else if (w.version < version) fresh = false;
    }
    return { complete, fresh: complete && fresh };
  }
}
