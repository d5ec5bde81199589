// The layer of row elements in the table body: the rows in view, positioned
// by a transform and patched in place as the view scrolls or rows arrive.
import { h, listen } from "../shared/dom.js";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {{ first: number, count: number, top: number }} Range  Rows in view and their offset in px.
 */

export class RowLayer {
  /**
   * @param {() => void} onEdited  a row input lost the focus: its row may be redrawn now
   * @param {AbortSignal} signal
   */
  constructor(onEdited, signal) {
    this.element = h("div", { class: "wnb-layer", role: "rowgroup" });
    /** @type {Map<string, { row: Row, el: HTMLElement }>} Elements of the rows drawn, by row id. */
    this.drawn = new Map();
    // Enter in a note commits it (the change event fires on blur).
    listen(this.element, "keydown", (e) => e.key === "Enter" && e.target.getAttribute("data-feedback") === "note" && e.target.blur(), signal);
    listen(this.element, "focusout", onEdited, signal);
  }

  /**
   * Show the rows of `range`; an element is rebuilt only when its row changed.
   * @param {Range} range
   * @param {(index: number) => Row | undefined} rowAt  a cached row, if loaded
   * @param {(row: Row | null) => HTMLElement} build  the element of a row, or a placeholder for `null`
   * @param {unknown} selected  `_id` of the selected row
   */
  draw(range, rowAt, build, selected) {
    this.element.style.transform = `translateY(${range.top}px)`;
    const focused = document.activeElement;
    /** @type {Map<string, { row: Row, el: HTMLElement }>} */
    const next = new Map();
    /** @type {HTMLElement[]} */
    const els = [];
    for (let i = range.first; i < range.first + range.count; i++) {
      const row = rowAt(i);
      let entry = row ? this.drawn.get(String(row._id)) : undefined;
      // A row being edited keeps its element (rebuilding it would drop the focus).
      if (row && !(entry && (entry.row === row || entry.el.contains(focused)))) entry = { row, el: build(row) };
      const el = entry ? entry.el : build(null);
      if (entry) {
        const isSelected = selected !== null && selected !== undefined && String(selected) === String(entry.row._id);
        el.classList.toggle("wnb-selected", isSelected);
        el.setAttribute("aria-selected", String(isSelected));
        next.set(String(entry.row._id), entry);
      }
      el.setAttribute("aria-rowindex", String(i + 1));
      els.push(el);
    }
    this.drawn = next;
    // Patch in place: rows that stay are never moved, so a focused note input
    // keeps its focus while rows scroll or arrive around it.
    const wanted = new Set(els);
    for (const child of [...this.element.children]) if (!wanted.has(/** @type {HTMLElement} */ (child))) child.remove();
    let cursor = this.element.firstElementChild;
    for (const el of els) {
      if (el === cursor) cursor = cursor.nextElementSibling;
      else this.element.insertBefore(el, cursor);
    }
  }

  /** The drawn row an event happened in. @param {EventTarget | null} target @returns {Row | null} */
  rowOf(target) {
    const id = target instanceof Element ? target.closest(".wnb-row")?.getAttribute("data-row-id") : null;
    return (id == null ? undefined : this.drawn.get(id)?.row) ?? null;
  }

  /** Rebuild the element of `row` at the next draw, even while one of its inputs has the focus. @param {Row} row */
  redraw(row) {
    this.drawn.delete(String(row._id));
    const active = document.activeElement;
    if (active instanceof HTMLElement && this.element.contains(active)) active.blur();
  }

  /** Rebuild every element at the next draw (columns changed). */
  redrawAll() {
    this.drawn.clear();
  }
}
