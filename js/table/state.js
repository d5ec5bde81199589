// Row counts and tail-following of one table view, apart from the DOM and the
// model: what the kernel's rows, ticks and errors and the user's scrolling do
// to them. The view (view.js) shows the result.

/**
 * @typedef {import("../shared/protocol.js").SortKey} SortKey
 * @typedef {{ sort: SortKey[], filter: string }} Query  What the view asks rows for.
 * @typedef {{ total: number, matched: number, version: number }} Counts
 * @typedef {{ total: number, matched: number | null, version: number, offset?: number, query?: Query }} Tick
 *   `matched` and `offset` (tail rows) belong to `query`, not necessarily the view's.
 */

/**
 * Whether a tick was computed for the query the view shows.
 * @param {Query | undefined} tick
 * @param {Query} current
 */
export function sameQuery(tick, current) {
  return tick !== undefined && tick.filter === current.filter && JSON.stringify(tick.sort) === JSON.stringify(current.sort);
}

export class ViewState {
  /** @param {boolean} following  whether the view starts at the tail */
  constructor(following) {
    /** Rows in the table, and rows matching the current filter. */
    this.total = 0;
    this.matched = 0;
    /** Newest table version seen; counts never step back to an older one. */
    this.version = -1;
    /** Whether any rows (or a failure) arrived for the current query. */
    this.loaded = false;
    this.following = following;
    /** `matched` when the user scrolled away from the tail: base of "N new rows". */
    this.matchedAtUnfollow = 0;
    /**
     * End of the newest tail rows pushed for the current query. Counts arrive
     * more often than rows while a cell logs fast, so a following view lays
     * out rows up to here, the newest it can show, not up to the count.
     */
    this.tailEnd = 0;
  }

  /** A window of rows answered one of the current query's requests. @param {Counts} counts */
  onRows({ total, matched, version }) {
    this.setCounts(total, matched, version);
    this.loaded = true;
  }

  /**
   * Counts pushed by the kernel.
   * @param {Tick} tick
   * @param {Query} current
   * @returns {number | null} offset of the tail rows the tick carries when they are of `current`
   */
  onTick(tick, current) {
    const same = sameQuery(tick.query, current);
    // Counts and rows are pushed from two kernel threads; never step back to an older count.
    if (tick.version >= this.version) {
      this.setCounts(tick.total, same && tick.matched !== null ? tick.matched : this.matched, tick.version);
    }
    return same && tick.offset !== undefined ? tick.offset : null;
  }

  /** Tail rows of the current query, ending at row `end`, were stored. @param {number} end */
  onTail(end) {
    this.tailEnd = Math.max(this.tailEnd, end);
    this.loaded = true;
  }

  /** The current query failed: nothing matches it. */
  onQueryError() {
    this.matched = 0;
    this.loaded = true;
  }

  /** Sort or filter changed: a new order starts at its first row, following again once at the bottom. */
  onNewQuery() {
    this.tailEnd = 0;
    this.loaded = false;
    if (this.following) this.setFollowing(false);
  }

  /**
   * The user scrolled (or rows arrived) and the viewport is, or is not, at the bottom.
   * @param {boolean} atBottom
   * @returns {boolean} whether following changed
   */
  onScroll(atBottom) {
    if (!this.loaded || atBottom === this.following) return false;
    this.setFollowing(atBottom);
    return true;
  }

  /** @param {boolean} on */
  setFollowing(on) {
    this.following = on;
    // Tail rows pushed before the view left the tail are stale once it returns.
    if (on) this.tailEnd = 0;
    this.matchedAtUnfollow = this.matched;
  }

  /** Rows laid out: all matching ones, or while following up to the newest rows received. */
  extent() {
    return this.following && this.tailEnd > 0 ? Math.min(this.matched, this.tailEnd) : this.matched;
  }

  /** Rows that matched since the user scrolled away from the tail. */
  fresh() {
    return this.following ? 0 : Math.max(0, this.matched - this.matchedAtUnfollow);
  }

  /** @param {number} total @param {number} matched @param {number} version */
  setCounts(total, matched, version) {
    this.total = total;
    this.matched = matched;
    this.version = Math.max(this.version, version);
  }
}
