// The toolbar above the table: row count, the SQL filter box and its inline
// error, status badges ("kernel busy", "N new rows", refused feedback) and the
// Columns menu button.
import { h, listen } from "../shared/dom.js";
import { formatNumber } from "./format.js";

/** How long a toolbar message (e.g. refused feedback) stays up. */
const MESSAGE_MS = 6000;

export class Toolbar {
  /**
   * @param {string} filter  the filter shown at first.
   * @param {{ onFilter: (filter: string) => void, onNewRows: () => void }} actions
   * @param {AbortSignal} signal
   */
  constructor(filter, { onFilter, onNewRows }, signal) {
    this.count = h("span", { class: "wnb-count", "data-role": "count" }, "…");
    this.filterInput = h("input", {
      class: "wnb-filter",
      type: "text",
      "data-role": "filter",
      placeholder: "filter: latency_ms > 500 and status = 'error'",
      spellcheck: "false",
      "aria-label": "Filter rows (SQL expression)",
    });
    this.filterInput.value = filter;
    this.filterError = h("div", { class: "wnb-filter-error", "data-role": "filter-error", role: "alert" });
    this.filterError.hidden = true;
    this.message = h("span", { class: "wnb-message", "data-role": "message", role: "status" });
    this.message.hidden = true;
    this.busy = h("span", { class: "wnb-busy", "data-role": "busy" }, "kernel busy…");
    this.busy.hidden = true;
    this.newRows = h("button", { class: "wnb-new-rows", "data-role": "new-rows", type: "button" });
    this.newRows.hidden = true;
    /** The filter in effect, restored by Escape. */
    this.applied = filter;
    this.messageTimer = 0;
    /** @param {HTMLElement} columns  the Columns menu, placed at the right end. */
    this.element = (columns) =>
      h("div", { class: "wnb-toolbar" }, [
        this.count,
        h("div", { class: "wnb-filter-box" }, [this.filterInput, this.filterError]),
        this.message,
        this.busy,
        this.newRows,
        columns,
      ]);

    listen(this.filterInput, "keydown", (/** @type {KeyboardEvent} */ e) => {
      if (e.key === "Enter") onFilter(this.filterInput.value.trim());
      else if (e.key === "Escape") this.filterInput.value = this.applied;
    }, signal);
    listen(this.newRows, "click", onNewRows, signal);
    signal.addEventListener("abort", () => clearTimeout(this.messageTimer));
  }

  /** The filter changed (here or in another view). @param {string} filter */
  setFilter(filter) {
    this.applied = filter;
    this.filterInput.value = filter;
    this.showFilterError(null);
  }

  /** @param {string | null} message */
  showFilterError(message) {
    this.filterError.hidden = message === null;
    this.filterError.textContent = message ?? "";
    this.filterInput.setAttribute("aria-invalid", String(message !== null));
  }

  /**
   * @param {{ total: number, matched: number, filtered: boolean, fresh: number }} counts
   *   `fresh`: rows matched since the user scrolled away from the tail.
   */
  showCounts({ total, matched, filtered, fresh }) {
    this.count.textContent = filtered
      ? `${formatNumber(matched)} of ${formatNumber(total)} rows`
      : `${formatNumber(total)} ${total === 1 ? "row" : "rows"}`;
    this.newRows.hidden = fresh === 0;
    this.newRows.textContent = `↓ ${formatNumber(fresh)} new ${fresh === 1 ? "row" : "rows"}`;
  }

  /** @param {boolean} busy */
  showBusy(busy) {
    this.busy.hidden = !busy;
  }

  /** Show a message for a few seconds. @param {string} text */
  flash(text) {
    this.message.textContent = text;
    this.message.hidden = false;
    clearTimeout(this.messageTimer);
    this.messageTimer = setTimeout(() => (this.message.hidden = true), MESSAGE_MS);
  }
}
