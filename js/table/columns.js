// Columns: which are shown, how wide, the sticky header with sort controls
// and the Columns menu that shows or hides them.
import { h, listen } from "../shared/dom.js";

/**
 * @typedef {import("../shared/protocol.js").SortKey} SortKey
 * @typedef {import("../shared/protocol.js").ColumnKind} ColumnKind
 * @typedef {import("../shared/protocol.js").ColumnInfo} ColumnInfo
 * @typedef {import("../shared/protocol.js").FeedbackConfig} FeedbackConfig
 */

/**
 * Track of each column kind: `min` px it never shrinks below, and its share
 * (`grow`) of the spare width, 0 for fixed-width kinds. Flexible tracks let a
 * table fill a narrow notebook without horizontal scrolling where it can.
 * @type {Record<ColumnKind | "id", { min: number, grow: number }>}
 */
const TRACKS = {
  id: { min: 120, grow: 1 },
  number: { min: 100, grow: 0.6 },
  time: { min: 184, grow: 0 },
  text: { min: 140, grow: 2 },
  bool: { min: 60, grow: 0 },
  image: { min: 84, grow: 0 },
  nested: { min: 160, grow: 2 },
  binary: { min: 100, grow: 0.6 },
  other: { min: 120, grow: 1 },
};
/** Header text: width of one character of the bold header font, and padding plus sort mark. */
const HEADER_CHAR_PX = 8;
const HEADER_PAD_PX = 30;
/** Feedback column: 👍/👎, plus the note box and one choice box per label field. */
const THUMBS_PX = 84;
const NOTE_PX = 140;
const LABEL_PX = 116;
/** Rows are taller when they show image thumbnails. */
const ROW_HEIGHT = 32;
const IMAGE_ROW_HEIGHT = 60;

/**
 * The columns shown: all but the hidden ones.
 * @param {ColumnInfo[]} columns
 * @param {string[]} hidden
 */
export function shownColumns(columns, hidden) {
  const names = new Set(hidden);
  return columns.filter((c) => !names.has(c.name));
}

/**
 * The hidden columns after showing or hiding `name`.
 * @param {string[]} hidden
 * @param {string} name
 * @param {boolean} hide
 */
export function withHidden(hidden, name, hide) {
  const rest = hidden.filter((n) => n !== name);
  return hide ? [...rest, name] : rest;
}

/** @param {FeedbackConfig} feedback */
export function hasFeedback(feedback) {
  return Boolean(feedback.thumbs || feedback.note || Object.keys(feedback.labels).length);
}

/**
 * The grid of the visible columns (plus the feedback column when shown).
 * @param {ColumnInfo[]} columns
 * @param {FeedbackConfig} feedback
 * @returns {{ template: string, minWidth: number, rowHeight: number }}  a grid-template-columns
 *   value, the narrowest width the columns fit in, and the height of a row in px.
 */
export function columnGrid(columns, feedback) {
  /** @type {string[]} */
  const tracks = [];
  let minWidth = 0;
  for (const column of columns) {
    const track = TRACKS[column.name === "_id" ? "id" : column.kind] ?? TRACKS.other;
    const { grow } = track;
    // A fixed track is as wide as its header's name too (e.g. `inputs.image`).
    const min = grow ? track.min : Math.max(track.min, column.name.length * HEADER_CHAR_PX + HEADER_PAD_PX);
    tracks.push(grow ? `minmax(${min}px, ${grow}fr)` : `${min}px`);
    minWidth += min;
  }
  if (hasFeedback(feedback)) {
    const width =
      (feedback.thumbs ? THUMBS_PX : 12) +
      (feedback.note ? NOTE_PX : 0) +
      Object.keys(feedback.labels).length * LABEL_PX;
    tracks.push(`${width}px`);
    minWidth += width;
  }
  const rowHeight = columns.some((c) => c.kind === "image") ? IMAGE_ROW_HEIGHT : ROW_HEIGHT;
  return { template: tracks.join(" "), minWidth, rowHeight };
}

/**
 * The sort after clicking `name`'s header: none → asc → desc → none.
 * @param {SortKey[]} sort
 * @param {string} name
 * @returns {SortKey[]}
 */
export function nextSort(sort, name) {
  const current = sort.find(([n]) => n === name);
  return !current ? [[name, "asc"]] : current[1] === "asc" ? [[name, "desc"]] : [];
}

/**
 * Header cells of `columns`, showing the sort.
 * @param {ColumnInfo[]} columns
 * @param {SortKey[]} sort
 * @param {boolean} feedback  whether to add the feedback column's header.
 * @returns {HTMLElement[]}
 */
export function headerCells(columns, sort, feedback) {
  const cells = columns.map((c) => {
    const key = sort.find(([name]) => name === c.name);
    const dir = key ? key[1] : null;
    return h(
      "div",
      {
        class: `wnb-th wnb-${c.kind}`,
        role: "columnheader",
        "data-column": c.name,
        "aria-sort": dir === "asc" ? "ascending" : dir === "desc" ? "descending" : "none",
        // Pictures have no order; an image inside a struct is no column the kernel can sort.
        title: c.kind === "image" ? `${c.name}: image` : `${c.name}: ${c.type} — click to sort`,
        "data-sortable": String(c.kind !== "image"),
        tabindex: c.kind === "image" ? null : 0,
      },
      [
        h("span", { class: "wnb-th-name" }, c.name),
        h("span", { class: "wnb-sort" }, dir === "asc" ? "▲" : dir === "desc" ? "▼" : ""),
      ],
    );
  });
  if (feedback) cells.push(h("div", { class: "wnb-th wnb-fb-th", role: "columnheader" }, "feedback"));
  return cells;
}

/**
 * Sort by a header cell's column when it is clicked, or Enter or Space is pressed on it.
 * @param {HTMLElement} header  the element holding the cells of headerCells()
 * @param {(name: string) => void} onSort
 * @param {AbortSignal} signal
 */
export function listenSort(header, onSort, signal) {
  /** @param {Event} e */
  const sortFrom = (e) => {
    const cell = /** @type {Element} */ (e.target).closest("[data-column]");
    const name = cell?.getAttribute("data-sortable") === "true" ? cell.getAttribute("data-column") : null;
    if (name) onSort(name);
  };
  listen(header, "click", sortFrom, signal);
  listen(header, "keydown", (e) => (e.key === "Enter" || e.key === " ") && sortFrom(e), signal);
}

/** The "Columns ▾" button and its menu of checkboxes. */
export class ColumnsMenu {
  /**
   * @param {(name: string, hide: boolean) => void} onToggle
   * @param {AbortSignal} signal
   */
  constructor(onToggle, signal) {
    this.button = h(
      "button",
      { class: "wnb-button", "data-role": "columns", type: "button", "aria-haspopup": "true" },
      "Columns ▾",
    );
    this.menu = h("div", { class: "wnb-menu", "data-role": "columns-menu", role: "menu" });
    this.menu.hidden = true;
    this.element = h("div", { class: "wnb-columns" }, [this.button, this.menu]);
    listen(this.button, "click", () => {
      this.menu.hidden = !this.menu.hidden;
      this.button.setAttribute("aria-expanded", String(!this.menu.hidden));
    }, signal);
    listen(this.menu, "change", (/** @type {Event} */ e) => {
      const box = /** @type {HTMLInputElement} */ (e.target);
      const name = box.getAttribute("data-toggle-column");
      if (name !== null) onToggle(name, !box.checked);
    }, signal);
  }

  /** @param {ColumnInfo[]} columns @param {Set<string>} hidden */
  update(columns, hidden) {
    this.menu.replaceChildren(
      ...columns.map((c) => {
        const box = h("input", { type: "checkbox", "data-toggle-column": c.name });
        box.checked = !hidden.has(c.name);
        return h("label", { class: "wnb-menu-item" }, [box, h("span", {}, c.name)]);
      }),
    );
  }
}
