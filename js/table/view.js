// The live table view: virtual scrolling over windows of Arrow rows fetched
// from the kernel, sort/filter/column controls, inline feedback, selection.
// Exported as renderTable() so a board can render a table from a child model.
import { decodeRows, PROTOCOL_VERSION, toJsonValue } from "../shared/protocol.js";
import { adoptStyle, h, listen } from "../shared/dom.js";
import { formatCell, formatNumber, isErrorRow } from "./format.js";
import { bodyHeight, fetchRange, isAtBottom, visibleRange, WindowCache } from "./windows.js";
import css from "./table.css";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {import("../shared/protocol.js").SortKey} SortKey
 * @typedef {import("./format.js").ColumnKind} ColumnKind
 * @typedef {import("./windows.js").CachedWindow} CachedWindow
 * @typedef {{ name: string, kind: ColumnKind, type: string }} ColumnInfo
 * @typedef {{ thumbs: string | null, note: string | null, labels: Record<string, string[]> }} FeedbackConfig
 * @typedef {object} TableState  The synced traits of weave_nb.widgets.TableWidget.
 * @property {number} protocol
 * @property {ColumnInfo[]} columns
 * @property {string[]} hidden_columns
 * @property {FeedbackConfig} feedback
 * @property {SortKey[]} sort
 * @property {string} filter
 * @property {boolean} follow
 * @property {unknown} selected_id
 * @property {number} height
 * @typedef {import("@anywidget/types").AnyModel<TableState>} TableModel
 */

/** Request ids, unique across the views on the page: every view of a model receives every reply. */
let lastRequest = 0;
const nextRequestId = () => ++lastRequest;

/** Rows per window request (the kernel answers any limit; this keeps replies small). */
const BLOCK = 100;
/** A user request pending longer than this shows "kernel busy". */
const BUSY_AFTER_MS = 600;
const ROW_HEIGHT = 32;
const IMAGE_ROW_HEIGHT = 60;
/** Default column widths in px by kind. */
const WIDTHS = /** @type {Record<ColumnKind, number>} */ ({
  number: 120,
  time: 190,
  text: 220,
  bool: 64,
  image: 84,
  nested: 220,
  binary: 110,
  other: 160,
});
const ID_WIDTH = 190;
const FEEDBACK_WIDTH = 96; // thumbs only; labels and note widen it

/**
 * Render a live table of `model` into `el` until `signal` aborts.
 * @param {{ model: TableModel, el: HTMLElement, signal: AbortSignal }} props
 */
export function renderTable({ model, el, signal }) {
  adoptStyle("table", css);
  if (model.get("protocol") !== PROTOCOL_VERSION) {
    el.append(
      h("div", { class: "wnb-fatal" }, [
        `weave_nb: the kernel speaks table protocol ${model.get("protocol")} but this front-end ` +
          `speaks ${PROTOCOL_VERSION}; reinstall weave_nb and restart the kernel.`,
      ]),
    );
    return;
  }
  new TableView(model, el, signal);
}

/**
 * The widget's static DOM: toolbar, sticky header, scroll body, detail overlay.
 * @param {TableModel} model
 */
function skeleton(model) {
    const count = h("span", { class: "wnb-count", "data-role": "count" }, "…");
    const filterInput = h("input", {
      class: "wnb-filter",
      type: "text",
      "data-role": "filter",
      placeholder: "filter: latency_ms > 500 and status = 'error'",
      spellcheck: "false",
      "aria-label": "Filter rows (SQL expression)",
    });
    filterInput.value = model.get("filter");
    const filterError = h("div", { class: "wnb-filter-error", "data-role": "filter-error", role: "alert" });
    filterError.hidden = true;
    const message = h("span", { class: "wnb-message", "data-role": "message", role: "status" });
    message.hidden = true;
    const busy = h("span", { class: "wnb-busy", "data-role": "busy" }, "kernel busy…");
    busy.hidden = true;
    const newRows = h("button", { class: "wnb-new-rows", "data-role": "new-rows", type: "button" });
    newRows.hidden = true;
    const columnsButton = h(
      "button",
      { class: "wnb-button", "data-role": "columns", type: "button", "aria-haspopup": "true" },
      "Columns ▾",
    );
    const columnsMenu = h("div", { class: "wnb-menu", "data-role": "columns-menu", role: "menu" });
    columnsMenu.hidden = true;

    const header = h("div", { class: "wnb-header", role: "row" });
    const layer = h("div", { class: "wnb-layer", role: "rowgroup" });
    const body = h("div", { class: "wnb-body" }, [layer]);
    const empty = h("div", { class: "wnb-empty" }, "no rows");
    const scroller = h("div", { class: "wnb-scroller", role: "grid" }, [header, body, empty]);
    scroller.style.maxHeight = `${model.get("height")}px`;
    const detail = h("div", { class: "wnb-detail", "data-role": "detail", role: "dialog" });
    detail.hidden = true;

    const root = h("div", { class: "wnb-table", "data-weave-nb": "table", "data-total-rows": "0" }, [
      h("div", { class: "wnb-toolbar" }, [
        count,
        h("div", { class: "wnb-filter-box" }, [filterInput, filterError]),
        message,
        busy,
        newRows,
        h("div", { class: "wnb-columns" }, [columnsButton, columnsMenu]),
      ]),
      scroller,
      detail,
    ]);
    return { root, count, message, filterInput, filterError, busy, newRows, columnsButton, columnsMenu, header, layer, body, empty, scroller, detail };
}

class TableView {
  /**
   * @param {TableModel} model
   * @param {HTMLElement} el
   * @param {AbortSignal} signal
   */
  constructor(model, el, signal) {
    this.model = model;
    this.signal = signal;
    this.cache = new WindowCache(4);
    /** Rows in the table, and rows matching the current filter. */
    this.total = 0;
    this.matched = 0;
    this.version = -1;
    this.loaded = false;
    this.following = model.get("follow");
    /** `matched` when the user scrolled away from the tail: base of "N new rows". */
    this.matchedAtUnfollow = 0;
    /** Bumped on every sort/filter/column change; replies for older generations are dropped. */
    this.generation = 0;
    /** @type {Map<number, { generation: number, sentAt: number, user: boolean, offset?: number }>} */
    this.pending = new Map();
    /** @type {Map<number, (content: any, buffers: DataView[]) => void>} */
    this.imageRequests = new Map();
    /** Object URLs of thumbnails, keyed by their cell value. */
    /** @type {WeakMap<object, string>} */
    this.thumbUrls = new WeakMap();
    /** @type {Map<string, { row: Row, el: HTMLElement }>} */
    this.rowEls = new Map();
    this.frame = 0;
    this.flashTimer = 0;
    this.rowHeight = ROW_HEIGHT;
    this.hasFeedback = false;

    this.ui = skeleton(model);
    el.append(this.ui.root);
    signal.addEventListener("abort", () => {
      this.ui.root.remove();
      cancelAnimationFrame(this.frame);
      clearTimeout(this.flashTimer);
      for (const w of this.cache.clear()) this.revokeThumbs(w);
    });
    this.connect();
    this.applyColumns();
    this.requestInitial();
  }

  // ---- wiring ---------------------------------------------------------------

  connect() {
    const { model, signal } = this;
    /** @param {any} msg @param {DataView[]} buffers */
    const onMessage = (msg, buffers) => this.onMessage(msg, buffers);
    model.on("msg:custom", onMessage);
    const resetOn = ["change:sort", "change:filter", "change:hidden_columns"];
    const onQuery = () => this.resetQuery();
    for (const event of resetOn) model.on(event, onQuery);
    const onColumns = () => this.applyColumns();
    model.on("change:columns", onColumns);
    model.on("change:feedback", onColumns);
    const onSelected = () => this.draw();
    model.on("change:selected_id", onSelected);
    const onHeight = () => {
      this.ui.scroller.style.maxHeight = `${model.get("height")}px`;
    };
    model.on("change:height", onHeight);
    signal.addEventListener("abort", () => {
      model.off("msg:custom", onMessage);
      for (const event of resetOn) model.off(event, onQuery);
      model.off("change:columns", onColumns);
      model.off("change:feedback", onColumns);
      model.off("change:selected_id", onSelected);
      model.off("change:height", onHeight);
    });

    listen(this.ui.scroller, "scroll", () => this.onScroll(), signal);
    listen(this.ui.filterInput, "keydown", (e) => this.onFilterKey(e), signal);
    listen(this.ui.columnsButton, "click", () => this.toggleColumnsMenu(), signal);
    listen(this.ui.columnsMenu, "change", (e) => {
      const box = /** @type {HTMLInputElement} */ (e.target);
      const name = box.getAttribute("data-toggle-column");
      if (name !== null) this.setHidden(name, !box.checked);
    }, signal);
    /** @param {Event} e */
    const sortFrom = (e) => {
      const name = /** @type {Element} */ (e.target).closest("[data-column]")?.getAttribute("data-column");
      if (name) this.cycleSort(name);
    };
    listen(this.ui.header, "click", sortFrom, signal);
    listen(this.ui.header, "keydown", (e) => (e.key === "Enter" || e.key === " ") && sortFrom(e), signal);
    listen(this.ui.newRows, "click", () => this.scrollToTail(), signal);
    listen(this.ui.layer, "click", (e) => this.onLayerClick(e), signal);
    listen(this.ui.layer, "change", (e) => this.onLayerChange(e), signal);
    listen(this.ui.layer, "keydown", (e) => this.onLayerKey(e), signal);
    // A row kept while its note was edited is redrawn with fresh data afterwards.
    listen(this.ui.layer, "focusout", () => this.schedule(), signal);
    listen(this.ui.root, "keydown", (e) => e.key === "Escape" && this.closeDetail(), signal);
    const resize = new ResizeObserver(() => this.schedule());
    resize.observe(this.ui.scroller);
    signal.addEventListener("abort", () => resize.disconnect());
    const busyTimer = setInterval(() => this.updateBusy(), 200);
    signal.addEventListener("abort", () => clearInterval(busyTimer));
  }

  // ---- columns --------------------------------------------------------------

  /** @returns {ColumnInfo[]} */
  visibleColumns() {
    const hidden = new Set(this.model.get("hidden_columns"));
    return this.model.get("columns").filter((c) => !hidden.has(c.name));
  }

  /** Rebuild header, grid template and column menu from the model's columns. */
  applyColumns() {
    const columns = this.visibleColumns();
    const feedback = this.model.get("feedback");
    this.hasFeedback = Boolean(feedback.thumbs || feedback.note || Object.keys(feedback.labels).length);
    this.rowHeight = columns.some((c) => c.kind === "image") ? IMAGE_ROW_HEIGHT : ROW_HEIGHT;
    const widths = columns.map((c) => (c.name === "_id" ? ID_WIDTH : WIDTHS[c.kind] ?? WIDTHS.other));
    if (this.hasFeedback) {
      widths.push(
        FEEDBACK_WIDTH + (feedback.note ? 120 : 0) + Object.keys(feedback.labels).length * 110,
      );
    }
    // The last column takes the spare width so rows and header span the whole widget.
    const template = widths.map((w, i) => (i === widths.length - 1 ? `minmax(${w}px, 1fr)` : `${w}px`));
    this.ui.root.style.setProperty("--wnb-columns", template.join(" "));
    this.ui.root.style.setProperty("--wnb-row-height", `${this.rowHeight}px`);
    this.ui.body.style.width = `${widths.reduce((a, b) => a + b, 0)}px`;

    const sort = this.model.get("sort");
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
          title: `${c.name}: ${c.type} — click to sort`,
          tabindex: 0,
        },
        [h("span", { class: "wnb-th-name" }, c.name), h("span", { class: "wnb-sort" }, dir === "asc" ? "▲" : dir === "desc" ? "▼" : "")],
      );
    });
    if (this.hasFeedback) cells.push(h("div", { class: "wnb-th wnb-fb-th", role: "columnheader" }, "feedback"));
    this.ui.header.replaceChildren(...cells);
    this.buildColumnsMenu();
    this.rowEls.clear();
    this.schedule();
  }

  buildColumnsMenu() {
    const hidden = new Set(this.model.get("hidden_columns"));
    this.ui.columnsMenu.replaceChildren(
      ...this.model.get("columns").map((c) => {
        const box = h("input", { type: "checkbox", "data-toggle-column": c.name });
        box.checked = !hidden.has(c.name);
        return h("label", { class: "wnb-menu-item" }, [box, h("span", {}, c.name)]);
      }),
    );
  }

  toggleColumnsMenu() {
    this.ui.columnsMenu.hidden = !this.ui.columnsMenu.hidden;
    this.ui.columnsButton.setAttribute("aria-expanded", String(!this.ui.columnsMenu.hidden));
  }

  /** @param {string} name @param {boolean} hide */
  setHidden(name, hide) {
    const hidden = this.model.get("hidden_columns").filter((n) => n !== name);
    if (hide) hidden.push(name);
    this.save("hidden_columns", hidden);
  }

  /** Header click: none → asc → desc → none. @param {string} name */
  cycleSort(name) {
    const current = this.model.get("sort").find(([n]) => n === name);
    /** @type {SortKey[]} */
    const next = !current ? [[name, "asc"]] : current[1] === "asc" ? [[name, "desc"]] : [];
    this.save("sort", next);
  }

  /**
   * Set a trait and sync it to the kernel.
   * @template {keyof TableState} K
   * @param {K} key
   * @param {TableState[K]} value
   */
  save(key, value) {
    this.model.set(key, value);
    this.model.save_changes();
  }

  // ---- filter ---------------------------------------------------------------

  /** @param {KeyboardEvent} event */
  onFilterKey(event) {
    if (event.key === "Enter") this.save("filter", this.ui.filterInput.value.trim());
    else if (event.key === "Escape") this.ui.filterInput.value = this.model.get("filter");
  }

  /** @param {string | null} message */
  showFilterError(message) {
    this.ui.filterError.hidden = message === null;
    this.ui.filterError.textContent = message ?? "";
    this.ui.filterInput.setAttribute("aria-invalid", String(message !== null));
  }

  // ---- requests -------------------------------------------------------------

  /** Sort, filter or columns changed: everything cached belongs to the old query. */
  resetQuery() {
    this.generation += 1;
    for (const w of this.cache.clear()) this.revokeThumbs(w);
    for (const [id, p] of this.pending) if (!p.user) this.pending.delete(id);
    this.ui.filterInput.value = this.model.get("filter");
    this.showFilterError(null);
    this.applyColumns();
    this.loaded = false;
    // A new order or filter starts at its first row; it follows again once at the bottom.
    if (this.following) this.setFollowing(false);
    this.ui.scroller.scrollTop = 0;
    this.requestInitial();
  }

  requestInitial() {
    this.request(this.following ? -BLOCK : 0, BLOCK, true);
  }

  /**
   * Ask the kernel for rows [offset, offset + limit) of the current query;
   * a negative offset counts from the end.
   * @param {number} offset
   * @param {number} limit
   * @param {boolean} user  whether someone waits for it (drives "kernel busy").
   */
  request(offset, limit, user) {
    const id = nextRequestId();
    this.pending.set(id, { generation: this.generation, sentAt: performance.now(), user, offset });
    this.model.send({
      type: "window",
      request: id,
      offset,
      limit,
      sort: this.model.get("sort"),
      filter: this.model.get("filter") || null,
    });
  }

  /** @param {number} offset */
  isPending(offset) {
    for (const p of this.pending.values()) if (p.offset === offset && p.generation === this.generation) return true;
    return false;
  }

  updateBusy() {
    const now = performance.now();
    let busy = false;
    for (const p of this.pending.values()) if (p.user && now - p.sentAt > BUSY_AFTER_MS) busy = true;
    this.ui.busy.hidden = !busy;
  }

  /** Show a message in the toolbar for a few seconds. @param {string} text */
  flash(text) {
    this.ui.message.textContent = text;
    this.ui.message.hidden = false;
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => (this.ui.message.hidden = true), 6000);
  }

  /** @param {any} msg @param {DataView[]} buffers */
  onMessage(msg, buffers) {
    if (msg.type === "rows") this.onRows(msg, buffers);
    else if (msg.type === "tick") this.onTick(msg, buffers);
    else if (msg.type === "image" || (msg.type === "error" && this.imageRequests.has(msg.request))) {
      this.imageRequests.get(msg.request)?.(msg, buffers);
    } else if (msg.type === "error") this.onError(msg);
  }

  /** @param {{ request: number, offset: number, total: number, matched: number, version: number }} msg @param {DataView[]} buffers */
  onRows(msg, buffers) {
    const pending = this.pending.get(msg.request);
    if (!pending) return; // another view of the same model asked
    this.pending.delete(msg.request);
    if (pending.generation !== this.generation) return;
    this.showFilterError(null);
    this.updateCounts(msg.total, msg.matched, msg.version);
    this.store({ offset: msg.offset, rows: decodeRows(buffers[0]), version: msg.version });
    this.loaded = true;
    this.ui.body.style.height = `${bodyHeight(this.matched, this.rowHeight)}px`;
    if (this.following) this.stickToTail();
    else if (isAtBottom(this.geometry())) this.setFollowing(true);
    this.schedule();
  }

  /** @param {{ total: number, matched: number | null, version: number, offset?: number, query?: { sort: SortKey[], filter: string } }} msg @param {DataView[]} buffers */
  onTick(msg, buffers) {
    const sameQuery =
      msg.query !== undefined &&
      JSON.stringify(msg.query.sort) === JSON.stringify(this.model.get("sort")) &&
      msg.query.filter === this.model.get("filter");
    // Counts and rows are pushed from two kernel threads; never step back to an older count.
    if (msg.version >= this.version) {
      this.updateCounts(msg.total, sameQuery && msg.matched !== null ? msg.matched : this.matched, msg.version);
    }
    if (sameQuery && msg.offset !== undefined && buffers.length) {
      this.store({ offset: msg.offset, rows: decodeRows(buffers[0]), version: msg.version });
      this.loaded = true;
    }
    if (this.following) this.stickToTail();
    this.schedule();
  }

  /** @param {{ request?: number | null, message: string }} msg */
  onError(msg) {
    if (msg.request === undefined || msg.request === null) {
      this.flash(msg.message); // feedback the kernel refused
      for (const w of this.cache.windows) w.version = -1; // drop the optimistic values
      this.schedule();
      return;
    }
    const pending = this.pending.get(msg.request);
    if (!pending) return; // another view's request
    this.pending.delete(msg.request);
    if (pending.generation !== this.generation) return;
    this.showFilterError(msg.message);
    this.updateCounts(this.total, 0, this.version); // nothing matches a query that failed
    this.loaded = true;
    this.schedule();
  }

  /** @param {number} total @param {number} matched @param {number} version */
  updateCounts(total, matched, version) {
    this.total = total;
    this.matched = matched;
    this.version = Math.max(this.version, version);
    this.ui.root.setAttribute("data-total-rows", String(total));
    this.ui.root.setAttribute("data-matched-rows", String(matched));
    const filtered = Boolean(this.model.get("filter"));
    this.ui.count.textContent = filtered
      ? `${formatNumber(matched)} of ${formatNumber(total)} rows`
      : `${formatNumber(total)} ${total === 1 ? "row" : "rows"}`;
    const fresh = this.following ? 0 : Math.max(0, matched - this.matchedAtUnfollow);
    this.ui.newRows.hidden = fresh === 0;
    this.ui.newRows.textContent = `↓ ${formatNumber(fresh)} new ${fresh === 1 ? "row" : "rows"}`;
  }

  /** @param {CachedWindow} window */
  store(window) {
    for (const w of this.cache.put(window)) this.revokeThumbs(w);
  }

  // ---- scrolling ------------------------------------------------------------

  viewportHeight() {
    return Math.max(0, this.ui.scroller.clientHeight - this.ui.header.offsetHeight);
  }

  /** @returns {{ scrollTop: number, viewportHeight: number, rowHeight: number, total: number }} */
  geometry() {
    return {
      scrollTop: this.ui.scroller.scrollTop,
      viewportHeight: this.viewportHeight(),
      rowHeight: this.rowHeight,
      total: this.matched,
    };
  }

  onScroll() {
    if (this.loaded) {
      const atBottom = isAtBottom(this.geometry());
      if (atBottom !== this.following) this.setFollowing(atBottom);
    }
    this.schedule();
  }

  /** @param {boolean} on */
  setFollowing(on) {
    this.following = on;
    this.matchedAtUnfollow = this.matched;
    this.updateCounts(this.total, this.matched, this.version);
    if (this.model.get("follow") !== on) this.save("follow", on);
  }

  stickToTail() {
    this.ui.body.style.height = `${bodyHeight(this.matched, this.rowHeight)}px`;
    this.ui.scroller.scrollTop = this.ui.scroller.scrollHeight;
  }

  scrollToTail() {
    this.setFollowing(true);
    this.stickToTail();
    this.schedule();
  }

  /** Redraw on the next animation frame (coalesces scroll and message bursts). */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  // ---- drawing --------------------------------------------------------------

  draw() {
    if (this.signal.aborted) return;
    const { layer } = this.ui;
    this.ui.body.style.height = `${bodyHeight(this.matched, this.rowHeight)}px`;
    this.ui.empty.hidden = !this.loaded || this.matched > 0 || !this.ui.filterError.hidden;
    const range = visibleRange(this.geometry());
    this.ensureLoaded(range.first, range.count);
    layer.style.transform = `translateY(${range.top}px)`;
    const selected = this.model.get("selected_id");
    const columns = this.visibleColumns();
    const focused = document.activeElement;
    /** @type {Map<string, { row: Row, el: HTMLElement }>} */
    const next = new Map();
    /** @type {HTMLElement[]} */
    const els = [];
    for (let i = range.first; i < range.first + range.count; i++) {
      const row = this.cache.row(i);
      const key = row ? String(row._id) : `#${i}`;
      let entry = this.rowEls.get(key);
      // A row being edited keeps its element (rebuilding it would drop the focus).
      if (row && !(entry && (entry.row === row || entry.el.contains(focused)))) {
        entry = { row, el: this.drawRow(row, columns) };
      }
      const el = row && entry ? entry.el : this.drawPlaceholder(i, columns);
      if (row && entry) {
        const isSelected = selected !== null && selected !== undefined && String(selected) === key;
        el.classList.toggle("wnb-selected", isSelected);
        el.setAttribute("aria-selected", String(isSelected));
        next.set(key, entry);
      }
      el.setAttribute("aria-rowindex", String(i + 1));
      els.push(el);
    }
    this.rowEls = next;
    // Patch the layer in place: rows that stay are never moved, so a focused
    // note input keeps its focus while rows scroll or arrive around it.
    const wanted = new Set(els);
    for (const child of [...layer.children]) if (!wanted.has(/** @type {HTMLElement} */ (child))) child.remove();
    let cursor = layer.firstElementChild;
    for (const el of els) {
      if (el === cursor) cursor = cursor.nextElementSibling;
      else layer.insertBefore(el, cursor);
    }
  }


  /**
   * Fetch the rows around the viewport when some are missing (a user wait)
   * or were read before the latest change (a background refresh).
   * @param {number} first @param {number} count
   */
  ensureLoaded(first, count) {
    if (count === 0) return;
    const { complete, fresh } = this.cache.coverage(first, count, this.version);
    if (fresh || (this.following && complete)) return; // ticks refresh the tail
    const { offset, limit } = fetchRange(first, count, this.matched, BLOCK);
    if (limit > 0 && !this.isPending(offset)) this.request(offset, limit, !complete);
  }

  /** @param {number} index @param {ColumnInfo[]} columns */
  drawPlaceholder(index, columns) {
    return h(
      "div",
      { class: "wnb-row wnb-loading", role: "row" },
      columns.map(() => h("div", { class: "wnb-cell" }, [h("span", { class: "wnb-skeleton" })])),
    );
  }

  /** @param {Row} row @param {ColumnInfo[]} columns */
  drawRow(row, columns) {
    const id = row._id;
    const el = h("div", {
      class: `wnb-row${isErrorRow(row) ? " wnb-error" : ""}`,
      role: "row",
      "data-row-id": String(id),
    });
    for (const column of columns) el.append(this.drawCell(row[column.name], column));
    if (this.hasFeedback) el.append(this.drawFeedback(row));
    return el;
  }

  /** @param {unknown} value @param {ColumnInfo} column */
  drawCell(value, column) {
    if (column.kind === "image" && value && typeof value === "object" && "png" in value) {
      const image = /** @type {{ png: Uint8Array, width: number, height: number }} */ (value);
      return h("div", { class: "wnb-cell wnb-image", role: "gridcell", "data-cell": column.name }, [
        h("img", {
          src: this.thumbUrl(image),
          alt: `image ${image.width}×${image.height}`,
          title: `${image.width}×${image.height} — click for full size`,
          "data-image-column": column.name,
          loading: "lazy",
        }),
      ]);
    }
    const view = formatCell(value, column.kind);
    return h(
      "div",
      {
        class: `wnb-cell wnb-${view.cls}${view.full ? " wnb-expandable" : ""}`,
        role: "gridcell",
        "data-cell": column.name,
        title: view.title,
      },
      view.text,
    );
  }

  /** @param {Row} row */
  drawFeedback(row) {
    const { thumbs, note, labels } = this.model.get("feedback");
    /** @type {HTMLElement[]} */
    const controls = [];
    if (thumbs) {
      for (const [dir, glyph, label] of [["up", "👍", "thumbs up"], ["down", "👎", "thumbs down"]]) {
        const on = row[thumbs] === dir;
        controls.push(
          h("button", { type: "button", class: "wnb-thumb", "data-feedback": dir, "aria-pressed": String(on), "aria-label": label, title: label }, glyph),
        );
      }
    }
    for (const [field, choices] of Object.entries(labels)) {
      const select = h("select", { class: "wnb-label", "data-feedback": "label", "data-field": field, "aria-label": field }, [
        h("option", { value: "" }, `${field}…`),
        ...choices.map((c) => h("option", { value: c }, c)),
      ]);
      select.value = typeof row[field] === "string" ? /** @type {string} */ (row[field]) : "";
      controls.push(select);
    }
    if (note) {
      const input = h("input", { type: "text", class: "wnb-note", "data-feedback": "note", placeholder: "note", "aria-label": "note" });
      input.value = typeof row[note] === "string" ? /** @type {string} */ (row[note]) : "";
      controls.push(input);
    }
    return h("div", { class: "wnb-cell wnb-fb", role: "gridcell" }, controls);
  }

  /** @param {{ png: Uint8Array }} image */
  thumbUrl(image) {
    let url = this.thumbUrls.get(image);
    if (!url) {
      url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (image.png)], { type: "image/png" }));
      this.thumbUrls.set(image, url);
    }
    return url;
  }

  /** @param {CachedWindow} window */
  revokeThumbs(window) {
    for (const row of window.rows) {
      for (const value of Object.values(row)) {
        const url = value && typeof value === "object" ? this.thumbUrls.get(value) : undefined;
        if (url) URL.revokeObjectURL(url);
      }
    }
  }

  // ---- interaction inside rows ------------------------------------------------

  /** @param {EventTarget | null} target @returns {{ el: HTMLElement, row: Row } | null} */
  rowOf(target) {
    const el = target instanceof Element ? target.closest(".wnb-row") : null;
    const id = el?.getAttribute("data-row-id");
    const entry = id == null ? undefined : this.rowEls.get(id);
    return entry && el instanceof HTMLElement ? { el, row: entry.row } : null;
  }

  /** @param {MouseEvent} event */
  onLayerClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const hit = this.rowOf(target);
    if (!hit) return;
    const feedback = target.closest("[data-feedback]")?.getAttribute("data-feedback");
    const field = this.model.get("feedback").thumbs;
    if ((feedback === "up" || feedback === "down") && field) {
      this.annotate(hit.row, field, hit.row[field] === feedback ? null : feedback);
      return;
    }
    if (target.closest(".wnb-fb")) return;
    if (target instanceof HTMLImageElement && target.dataset.imageColumn) {
      this.showImage(hit.row, target.dataset.imageColumn);
    } else {
      const cell = target.closest(".wnb-expandable");
      const name = cell?.getAttribute("data-cell");
      if (name) this.showText(hit.row, name);
    }
    this.save("selected_id", toJsonValue(hit.row._id));
  }

  /** @param {Event} event */
  onLayerChange(event) {
    const target = /** @type {HTMLInputElement | HTMLSelectElement} */ (event.target);
    const hit = this.rowOf(target);
    if (!hit) return;
    const kind = target.getAttribute("data-feedback");
    const field = kind === "note" ? this.model.get("feedback").note : target.getAttribute("data-field");
    if (field) this.annotate(hit.row, field, target.value === "" ? null : target.value);
  }

  /** Enter in a note commits it (the change event fires on blur). @param {KeyboardEvent} event */
  onLayerKey(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    if (event.key === "Enter" && target.getAttribute("data-feedback") === "note") target.blur();
  }

  /**
   * Store feedback through the kernel's table.annotate, showing it at once.
   * @param {Row} row @param {string} field @param {string | null} value
   */
  annotate(row, field, value) {
    row[field] = value; // optimistic; the kernel's tick brings the stored value
    this.model.send({ type: "annotate", row_id: toJsonValue(row._id), field, value });
    this.rowEls.delete(String(row._id));
    const active = document.activeElement;
    if (active instanceof HTMLElement && this.ui.layer.contains(active)) active.blur();
    this.schedule();
  }

  // ---- detail overlay -----------------------------------------------------------

  /** @param {string} title @param {Node} content */
  openDetail(title, content) {
    const close = h("button", { type: "button", class: "wnb-button", "aria-label": "close" }, "✕");
    listen(close, "click", () => this.closeDetail(), this.signal);
    this.ui.detail.replaceChildren(
      h("div", { class: "wnb-detail-head" }, [h("span", {}, title), close]),
      h("div", { class: "wnb-detail-body" }, [content]),
    );
    this.ui.detail.hidden = false;
    close.focus();
  }

  closeDetail() {
    const img = this.ui.detail.querySelector("img");
    if (img) URL.revokeObjectURL(img.src);
    this.ui.detail.hidden = true;
    this.ui.detail.replaceChildren();
  }

  /** @param {Row} row @param {string} name */
  showText(row, name) {
    const column = this.model.get("columns").find((c) => c.name === name);
    const view = formatCell(row[name], column ? column.kind : "other");
    this.openDetail(`${name} · ${String(row._id)}`, h("pre", {}, view.full ?? view.text));
  }

  /** @param {Row} row @param {string} column */
  showImage(row, column) {
    const id = nextRequestId();
    const status = h("div", { class: "wnb-muted" }, "loading full image…");
    this.openDetail(`${column} · ${String(row._id)}`, status);
    this.pending.set(id, { generation: this.generation, sentAt: performance.now(), user: true });
    this.imageRequests.set(id, (msg, buffers) => {
      this.imageRequests.delete(id);
      this.pending.delete(id);
      if (this.ui.detail.firstChild === null || status.parentNode === null) return; // closed meanwhile
      if (!buffers.length) {
        status.textContent = msg.message ?? "image not found";
        return;
      }
      const url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (buffers[0])], { type: "image/png" }));
      status.replaceWith(h("img", { src: url, alt: `${column} ${msg.width}×${msg.height}`, class: "wnb-full-image" }));
    });
    this.model.send({ type: "image", request: id, row_id: toJsonValue(row._id), column });
  }
}
