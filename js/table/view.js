// The live table view: wires the toolbar, columns, rows, feedback and detail
// overlay to the model, fetching windows of Arrow rows from the kernel for
// virtual scrolling. Exported as renderTable() so a board can render a table
// from a child model.
import { decodeRows, PROTOCOL_VERSION, toJsonValue } from "../shared/protocol.js";
import { adoptStyle, h, listen } from "../shared/dom.js";
import { ColumnsMenu, columnGrid, hasFeedback, headerCells, nextSort } from "./columns.js";
import { Detail } from "./detail.js";
import { changeAnnotation, clickAnnotation, feedbackCell } from "./feedback.js";
import { Requests } from "./requests.js";
import { placeholderRow, rowElement, Thumbnails } from "./rows.js";
import { Toolbar } from "./toolbar.js";
import { TracePanel } from "./trace.js";
import { bodyHeight, fetchRange, isAtBottom, visibleRange, WindowCache } from "./windows.js";
import css from "./table.css";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {import("../shared/protocol.js").SortKey} SortKey
 * @typedef {import("./columns.js").ColumnInfo} ColumnInfo
 * @typedef {import("./columns.js").FeedbackConfig} FeedbackConfig
 * @typedef {import("./windows.js").CachedWindow} CachedWindow
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

/** Rows per window request (the kernel answers any limit; this keeps replies small). */
const BLOCK = 100;
const ROW_HEIGHT = 32;
const IMAGE_ROW_HEIGHT = 60;

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
    this.thumbnails = new Thumbnails();
    /** Rows in the table, and rows matching the current filter. */
    this.total = 0;
    this.matched = 0;
    this.version = -1;
    this.loaded = false;
    this.following = model.get("follow");
    /** `matched` when the user scrolled away from the tail: base of "N new rows". */
    this.matchedAtUnfollow = 0;
    /**
     * End of the newest tail rows pushed for the current query. Counts arrive
     * more often than rows while a cell logs fast, so a following view lays
     * out rows up to here, the newest it can show, not up to the count.
     */
    this.tailEnd = 0;
    this.requests = new Requests((message) => model.send(message));
    /** @type {Map<string, { row: Row, el: HTMLElement }>} */
    this.rowEls = new Map();
    this.frame = 0;
    this.rowHeight = ROW_HEIGHT;
    this.feedbackShown = false;

    this.toolbar = new Toolbar(
      model.get("filter"),
      { onFilter: (filter) => this.save("filter", filter), onNewRows: () => this.scrollToTail() },
      signal,
    );
    this.columnsMenu = new ColumnsMenu((name, hide) => this.setHidden(name, hide), signal);
    /** @type {import("./detail.js").Ask} */
    const ask = (message) => this.requests.ask({ ...message, row_id: toJsonValue(message.row_id) });
    this.detail = new Detail(ask, signal);
    this.trace = new TracePanel(ask, signal);
    this.header = h("div", { class: "wnb-header", role: "row" });
    this.layer = h("div", { class: "wnb-layer", role: "rowgroup" });
    this.body = h("div", { class: "wnb-body" }, [this.layer]);
    this.empty = h("div", { class: "wnb-empty" }, "no rows");
    this.scroller = h("div", { class: "wnb-scroller", role: "grid" }, [this.header, this.body, this.empty]);
    this.scroller.style.maxHeight = `${model.get("height")}px`;
    this.root = h("div", { class: "wnb-table", "data-weave-nb": "table", "data-total-rows": "0" }, [
      this.toolbar.element(this.columnsMenu.element),
      this.scroller,
      this.trace.element,
      this.detail.element,
    ]);
    el.append(this.root);
    signal.addEventListener("abort", () => {
      this.root.remove();
      cancelAnimationFrame(this.frame);
      for (const w of this.cache.clear()) this.thumbnails.revoke(w.rows);
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
      this.scroller.style.maxHeight = `${model.get("height")}px`;
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

    listen(this.scroller, "scroll", () => this.onScroll(), signal);
    /** @param {Event} e */
    const sortFrom = (e) => {
      const header = /** @type {Element} */ (e.target).closest("[data-column]");
      const name = header?.getAttribute("data-sortable") === "true" ? header.getAttribute("data-column") : null;
      if (name) this.save("sort", nextSort(this.model.get("sort"), name));
    };
    listen(this.header, "click", sortFrom, signal);
    listen(this.header, "keydown", (e) => (e.key === "Enter" || e.key === " ") && sortFrom(e), signal);
    listen(this.layer, "click", (e) => this.onLayerClick(e), signal);
    listen(this.layer, "change", (e) => this.onLayerChange(e), signal);
    // Enter in a note commits it (the change event fires on blur).
    listen(this.layer, "keydown", (e) => e.key === "Enter" && e.target.getAttribute("data-feedback") === "note" && e.target.blur(), signal);
    // A row kept while its note was edited is redrawn with fresh data afterwards.
    listen(this.layer, "focusout", () => this.schedule(), signal);
    listen(this.root, "keydown", (e) => e.key === "Escape" && this.detail.close(), signal);
    const resize = new ResizeObserver(() => this.schedule());
    resize.observe(this.scroller);
    signal.addEventListener("abort", () => resize.disconnect());
    const busyTimer = setInterval(() => this.toolbar.showBusy(this.requests.busy()), 200);
    signal.addEventListener("abort", () => clearInterval(busyTimer));
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
    this.feedbackShown = hasFeedback(feedback);
    this.rowHeight = columns.some((c) => c.kind === "image") ? IMAGE_ROW_HEIGHT : ROW_HEIGHT;
    const grid = columnGrid(columns, feedback);
    this.root.style.setProperty("--wnb-columns", grid.template);
    this.root.style.setProperty("--wnb-min-width", `${grid.minWidth}px`);
    this.root.style.setProperty("--wnb-row-height", `${this.rowHeight}px`);
    this.header.replaceChildren(...headerCells(columns, this.model.get("sort"), this.feedbackShown));
    this.columnsMenu.update(this.model.get("columns"), new Set(this.model.get("hidden_columns")));
    this.rowEls.clear();
    this.schedule();
  }

  /** @param {string} name @param {boolean} hide */
  setHidden(name, hide) {
    const hidden = this.model.get("hidden_columns").filter((n) => n !== name);
    if (hide) hidden.push(name);
    this.save("hidden_columns", hidden);
  }

  // ---- requests -------------------------------------------------------------

  /** Sort, filter or columns changed: everything cached belongs to the old query. */
  resetQuery() {
    this.requests.newGeneration();
    this.tailEnd = 0;
    for (const w of this.cache.clear()) this.thumbnails.revoke(w.rows);
    this.toolbar.setFilter(this.model.get("filter"));
    this.applyColumns();
    this.loaded = false;
    // A new order or filter starts at its first row; it follows again once at the bottom.
    if (this.following) this.setFollowing(false);
    this.scroller.scrollTop = 0;
    this.requestInitial();
  }

  requestInitial() {
    this.request(this.following ? -BLOCK : 0, BLOCK, true);
  }

  /**
   * Ask the kernel for rows [offset, offset + limit) of the current query;
   * a negative offset counts from the end.
   * @param {number} offset @param {number} limit @param {boolean} user
   */
  request(offset, limit, user) {
    const query = { sort: this.model.get("sort"), filter: this.model.get("filter") || null };
    this.requests.window(offset, limit, user, query);
  }

  /** @param {any} msg @param {DataView[]} buffers */
  onMessage(msg, buffers) {
    if (this.requests.resolve(msg, buffers)) return;
    if (msg.type === "rows") this.onRows(msg, buffers);
    else if (msg.type === "tick") this.onTick(msg, buffers);
    else if (msg.type === "error") this.onError(msg);
  }

  /** @param {{ request: number, offset: number, total: number, matched: number, version: number }} msg @param {DataView[]} buffers */
  onRows(msg, buffers) {
    if (!this.requests.settle(msg.request)) return; // another view's, or an older query's
    this.toolbar.showFilterError(null);
    this.updateCounts(msg.total, msg.matched, msg.version);
    this.store({ offset: msg.offset, rows: decodeRows(buffers[0]), version: msg.version });
    this.loaded = true;
    this.body.style.height = `${bodyHeight(this.extent(), this.rowHeight)}px`;
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
      const rows = decodeRows(buffers[0]);
      this.store({ offset: msg.offset, rows, version: msg.version });
      this.tailEnd = Math.max(this.tailEnd, msg.offset + rows.length);
      this.loaded = true;
    }
    if (this.following) this.stickToTail();
    this.trace.refresh(msg.version);
    this.schedule();
  }

  /** @param {{ request?: number | null, message: string }} msg */
  onError(msg) {
    if (msg.request === undefined || msg.request === null) {
      this.toolbar.flash(msg.message); // feedback the kernel refused
      for (const w of this.cache.windows) w.version = -1; // drop the optimistic values
      this.schedule();
      return;
    }
    if (!this.requests.settle(msg.request)) return; // another view's, or an older query's
    this.toolbar.showFilterError(msg.message);
    this.updateCounts(this.total, 0, this.version); // nothing matches a query that failed
    this.loaded = true;
    this.schedule();
  }

  /** @param {number} total @param {number} matched @param {number} version */
  updateCounts(total, matched, version) {
    this.total = total;
    this.matched = matched;
    this.version = Math.max(this.version, version);
    this.root.setAttribute("data-total-rows", String(total));
    this.root.setAttribute("data-matched-rows", String(matched));
    this.toolbar.showCounts({
      total,
      matched,
      filtered: Boolean(this.model.get("filter")),
      fresh: this.following ? 0 : Math.max(0, matched - this.matchedAtUnfollow),
    });
  }

  /** @param {CachedWindow} window */
  store(window) {
    for (const w of this.cache.put(window)) this.thumbnails.revoke(w.rows);
  }

  // ---- scrolling ------------------------------------------------------------

  /** @returns {{ scrollTop: number, viewportHeight: number, rowHeight: number, total: number }} */
  geometry() {
    return {
      scrollTop: this.scroller.scrollTop,
      viewportHeight: Math.max(0, this.scroller.clientHeight - this.header.offsetHeight),
      rowHeight: this.rowHeight,
      total: this.extent(),
    };
  }

  /** Rows laid out: all matching ones, or while following up to the newest rows received. */
  extent() {
    return this.following && this.tailEnd > 0 ? Math.min(this.matched, this.tailEnd) : this.matched;
  }

  /**
   * Whether the view is laid out. Hidden (a collapsed output, a theme switch
   * re-attaching the page) it reads zero sizes and a reset scroll position,
   * from which it must not redraw nor decide it left the tail; the resize
   * observer redraws once it shows again.
   */
  laidOut() {
    return this.scroller.clientHeight > 0;
  }

  onScroll() {
    if (!this.laidOut()) return;
    if (this.loaded) {
      const atBottom = isAtBottom(this.geometry());
      if (atBottom !== this.following) this.setFollowing(atBottom);
    }
    this.schedule();
  }

  /** @param {boolean} on */
  setFollowing(on) {
    this.following = on;
    // Tail rows pushed before the view left the tail are stale once it returns.
    if (on) this.tailEnd = 0;
    this.matchedAtUnfollow = this.matched;
    this.updateCounts(this.total, this.matched, this.version);
    if (this.model.get("follow") !== on) this.save("follow", on);
  }

  stickToTail() {
    this.body.style.height = `${bodyHeight(this.extent(), this.rowHeight)}px`;
    this.scroller.scrollTop = this.scroller.scrollHeight;
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
    if (this.signal.aborted || !this.laidOut()) return;
    const { layer } = this;
    this.body.style.height = `${bodyHeight(this.extent(), this.rowHeight)}px`;
    this.empty.hidden = !this.loaded || this.matched > 0 || !this.toolbar.filterError.hidden;
    const range = visibleRange(this.geometry());
    this.ensureLoaded(range.first, range.count);
    layer.style.transform = `translateY(${range.top}px)`;
    const selected = this.model.get("selected_id");
    const columns = this.visibleColumns();
    const feedback = this.model.get("feedback");
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
        const controls = this.feedbackShown ? feedbackCell(row, feedback) : null;
        entry = { row, el: rowElement(row, columns, this.thumbnails, controls) };
      }
      const el = row && entry ? entry.el : placeholderRow(columns);
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
    if (limit > 0 && !this.requests.isPending(offset)) this.request(offset, limit, !complete);
  }

  // ---- interaction inside rows ------------------------------------------------

  /** @param {EventTarget | null} target @returns {Row | null} */
  rowOf(target) {
    const id = target instanceof Element ? target.closest(".wnb-row")?.getAttribute("data-row-id") : null;
    return (id == null ? undefined : this.rowEls.get(id)?.row) ?? null;
  }

  /** @param {MouseEvent} event */
  onLayerClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const row = this.rowOf(target);
    if (!row) return;
    const annotation = clickAnnotation(target, row, this.model.get("feedback"));
    if (annotation) {
      this.annotate(row, annotation.field, annotation.value);
      return;
    }
    if (target.closest(".wnb-fb")) return;
    const cell = target.closest(".wnb-expandable");
    const name = cell?.getAttribute("data-cell");
    const column = this.model.get("columns").find((c) => c.name === name);
    if (target instanceof HTMLImageElement && target.dataset.imageColumn) {
      void this.detail.showImage(row, target.dataset.imageColumn);
    } else if (cell && column) {
      void this.detail.showCell(row, column, cell.hasAttribute("data-cut"));
    }
    this.save("selected_id", toJsonValue(row._id));
    // Rows of traced calls (@monitor, OpenTelemetry spans) open their trace below the table.
    if (this.model.get("columns").some((c) => c.name === "trace_id")) void this.trace.open(row._id);
  }

  /** @param {Event} event */
  onLayerChange(event) {
    const target = /** @type {HTMLInputElement | HTMLSelectElement} */ (event.target);
    const row = this.rowOf(target);
    const annotation = row && changeAnnotation(target, this.model.get("feedback"));
    if (row && annotation) this.annotate(row, annotation.field, annotation.value);
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
    if (active instanceof HTMLElement && this.layer.contains(active)) active.blur();
    this.schedule();
  }
}
