// The live table view: wires the toolbar, columns, rows, feedback and detail
// overlay to the model, fetching windows of Arrow rows from the kernel for
// virtual scrolling. Exported as renderTable() so a board can render a table
// from a child model.
import { decodeRows, receiveKernelMessage, sendMessage, toRowId, versionMismatch } from "../shared/protocol.js";
import { adoptStyle, h, listen, listenModel } from "../shared/dom.js";
import { ColumnsMenu, columnGrid, hasFeedback, headerCells, listenSort, nextSort, shownColumns, withHidden } from "./columns.js";
import { Detail } from "./detail.js";
import { changeAnnotation, clickAnnotation, feedbackCell } from "./feedback.js";
import { Requests } from "./requests.js";
import { ViewState } from "./state.js";
import { RowLayer } from "./layer.js";
import { placeholderRow, rowElement, Thumbnails } from "./rows.js";
import { Toolbar } from "./toolbar.js";
import { TracePanel } from "./trace.js";
import { bodyHeight, fetchRange, isAtBottom, visibleRange, WindowCache } from "./windows.js";
import css from "./table.css";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {import("./columns.js").ColumnInfo} ColumnInfo
 * @typedef {import("./windows.js").CachedWindow} CachedWindow
 * @typedef {import("../shared/protocol.js").TableState} TableState
 * @typedef {import("@anywidget/types").AnyModel<TableState>} TableModel
 */

/** Rows per window request (the kernel answers any limit; this keeps replies small). */
const BLOCK = 100;

/**
 * Render a live table of `model` into `el` until `signal` aborts.
 * @param {{ model: TableModel, el: HTMLElement, signal: AbortSignal }} props
 */
export function renderTable({ model, el, signal }) {
  adoptStyle(el, "table", css);
  const mismatch = versionMismatch("table", model.get("protocol"));
  if (mismatch) {
    el.append(h("div", { class: "wnb-fatal" }, [mismatch]));
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
    this.state = new ViewState(model.get("follow"));
    this.requests = new Requests((message) => sendMessage(model, message));
    this.frame = 0;
    this.rowHeight = 0; // set by applyColumns()
    this.feedbackShown = false;

    this.toolbar = new Toolbar(
      model.get("filter"),
      { onFilter: (filter) => this.save("filter", filter), onNewRows: () => this.scrollToTail() },
      signal,
    );
    this.columnsMenu = new ColumnsMenu((name, hide) => this.setHidden(name, hide), signal);
    /** @type {import("./detail.js").Ask} */
    const ask = (message) => this.requests.ask(message);
    this.detail = new Detail(ask, signal);
    this.trace = new TracePanel(ask, signal);
    this.header = h("div", { class: "wnb-header", role: "row" });
    // A row kept while its note was edited is redrawn with fresh data afterwards.
    this.layer = new RowLayer(() => this.schedule(), signal);
    this.body = h("div", { class: "wnb-body" }, [this.layer.element]);
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
    listenModel(model, ["msg:custom"], (msg, buffers) => this.onMessage(msg, buffers), signal);
    listenModel(model, ["change:sort", "change:filter", "change:hidden_columns"], () => this.resetQuery(), signal);
    listenModel(model, ["change:columns", "change:feedback"], () => this.applyColumns(), signal);
    listenModel(model, ["change:selected_id"], () => this.draw(), signal);
    const showHeight = () => {
      this.scroller.style.maxHeight = `${model.get("height")}px`;
    };
    listenModel(model, ["change:height"], showHeight, signal);

    listen(this.scroller, "scroll", () => this.onScroll(), signal);
    listenSort(this.header, (name) => this.save("sort", nextSort(this.model.get("sort"), name)), signal);
    listen(this.layer.element, "click", (e) => this.onLayerClick(e), signal);
    listen(this.layer.element, "change", (e) => this.onLayerChange(e), signal);
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
    return shownColumns(this.model.get("columns"), this.model.get("hidden_columns"));
  }

  /** Rebuild header, grid template and column menu from the model's columns. */
  applyColumns() {
    const columns = this.visibleColumns();
    const feedback = this.model.get("feedback");
    this.feedbackShown = hasFeedback(feedback);
    const grid = columnGrid(columns, feedback);
    this.rowHeight = grid.rowHeight;
    this.root.style.setProperty("--wnb-columns", grid.template);
    this.root.style.setProperty("--wnb-min-width", `${grid.minWidth}px`);
    this.root.style.setProperty("--wnb-row-height", `${this.rowHeight}px`);
    this.header.replaceChildren(...headerCells(columns, this.model.get("sort"), this.feedbackShown));
    this.columnsMenu.update(this.model.get("columns"), new Set(this.model.get("hidden_columns")));
    this.layer.redrawAll();
    this.schedule();
  }

  /** @param {string} name @param {boolean} hide */
  setHidden(name, hide) {
    this.save("hidden_columns", withHidden(this.model.get("hidden_columns"), name, hide));
  }

  // ---- requests -------------------------------------------------------------

  /** Sort, filter or columns changed: everything cached belongs to the old query. */
  resetQuery() {
    this.requests.newGeneration();
    for (const w of this.cache.clear()) this.thumbnails.revoke(w.rows);
    this.toolbar.setFilter(this.model.get("filter"));
    this.applyColumns();
    this.state.onNewQuery();
    this.showFollowing();
    this.scroller.scrollTop = 0;
    this.requestInitial();
  }

  requestInitial() {
    this.request(this.state.following ? -BLOCK : 0, BLOCK, true);
  }

  /**
   * Ask the kernel for rows [offset, offset + limit) of the current query;
   * a negative offset counts from the end.
   * @param {number} offset @param {number} limit @param {boolean} user
   */
  request(offset, limit, user) {
    const { sort, filter } = this.query();
    this.requests.window(offset, limit, user, { sort, filter: filter || null });
  }

  /** @returns {import("./state.js").Query} */
  query() {
    return { sort: this.model.get("sort"), filter: this.model.get("filter") };
  }

  /** @param {unknown} content @param {DataView[]} buffers */
  onMessage(content, buffers) {
    const msg = receiveKernelMessage(content, buffers);
    if (!msg || this.requests.resolve(msg, buffers)) return;
    if (msg.type === "rows") this.onRows(msg, buffers);
    else if (msg.type === "tick") this.onTick(msg, buffers);
    else if (msg.type === "error") this.onError(msg);
  }

  /** @param {import("../shared/protocol.js").RowsReply} msg @param {DataView[]} buffers */
  onRows(msg, buffers) {
    if (!this.requests.settle(msg.request)) return; // another view's, or an older query's
    this.toolbar.showFilterError(null);
    this.state.onRows(msg);
    this.showCounts();
    this.store({ offset: msg.offset, rows: decodeRows(buffers[0]), version: msg.version });
    this.body.style.height = `${bodyHeight(this.state.extent(), this.rowHeight)}px`;
    if (this.state.following) this.stickToTail();
    else if (this.state.onScroll(isAtBottom(this.geometry()))) this.showFollowing();
    this.schedule();
  }

  /** @param {import("../shared/protocol.js").Tick | import("../shared/protocol.js").TailTick} msg @param {DataView[]} buffers */
  onTick(msg, buffers) {
    const tailOffset = this.state.onTick(msg, this.query());
    this.showCounts();
    if (tailOffset !== null && buffers.length) {
      const rows = decodeRows(buffers[0]);
      this.store({ offset: tailOffset, rows, version: msg.version });
      this.state.onTail(tailOffset + rows.length);
    }
    if (this.state.following) this.stickToTail();
    this.trace.refresh(msg.version);
    this.schedule();
  }

  /** @param {import("../shared/protocol.js").ErrorReply} msg */
  onError(msg) {
    if (msg.request === undefined || msg.request === null) {
      this.toolbar.flash(msg.message); // feedback the kernel refused
      for (const w of this.cache.windows) w.version = -1; // drop the optimistic values
      this.schedule();
      return;
    }
    if (!this.requests.settle(msg.request)) return; // another view's, or an older query's
    this.toolbar.showFilterError(msg.message);
    this.state.onQueryError();
    this.showCounts();
    this.schedule();
  }

  showCounts() {
    const { total, matched } = this.state;
    this.root.setAttribute("data-total-rows", String(total));
    this.root.setAttribute("data-matched-rows", String(matched));
    this.toolbar.showCounts({ total, matched, filtered: Boolean(this.model.get("filter")), fresh: this.state.fresh() });
  }

  /** Show the state's following and sync it to the `follow` trait. */
  showFollowing() {
    this.showCounts();
    if (this.model.get("follow") !== this.state.following) this.save("follow", this.state.following);
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
      total: this.state.extent(),
    };
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
    if (this.state.onScroll(isAtBottom(this.geometry()))) this.showFollowing();
    this.schedule();
  }

  stickToTail() {
    this.body.style.height = `${bodyHeight(this.state.extent(), this.rowHeight)}px`;
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  scrollToTail() {
    this.state.setFollowing(true);
    this.showFollowing();
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
    this.body.style.height = `${bodyHeight(this.state.extent(), this.rowHeight)}px`;
    this.empty.hidden = !this.state.loaded || this.state.matched > 0 || !this.toolbar.filterError.hidden;
    const range = visibleRange(this.geometry());
    this.ensureLoaded(range.first, range.count);
    const columns = this.visibleColumns();
    const feedback = this.model.get("feedback");
    /** @param {Row | null} row */
    const build = (row) => {
      if (!row) return placeholderRow(columns);
      return rowElement(row, columns, this.thumbnails, this.feedbackShown ? feedbackCell(row, feedback) : null);
    };
    this.layer.draw(range, (i) => this.cache.row(i), build, this.model.get("selected_id"));
  }

  /**
   * Fetch the rows around the viewport when some are missing (a user wait)
   * or were read before the latest change (a background refresh).
   * @param {number} first @param {number} count
   */
  ensureLoaded(first, count) {
    if (count === 0) return;
    const { complete, fresh } = this.cache.coverage(first, count, this.state.version);
    if (fresh || (this.state.following && complete)) return; // ticks refresh the tail
    const { offset, limit } = fetchRange(first, count, this.state.matched, BLOCK);
    if (limit > 0 && !this.requests.isPending(offset)) this.request(offset, limit, !complete);
  }

  // ---- interaction inside rows ------------------------------------------------

  /** @param {MouseEvent} event */
  onLayerClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const row = this.layer.rowOf(target);
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
    this.save("selected_id", toRowId(row._id));
    // Rows of traced calls (@monitor, OpenTelemetry spans) open their trace below the table.
    if (this.model.get("columns").some((c) => c.name === "trace_id")) void this.trace.open(row._id);
  }

  /** @param {Event} event */
  onLayerChange(event) {
    const target = /** @type {HTMLInputElement | HTMLSelectElement} */ (event.target);
    const row = this.layer.rowOf(target);
    const annotation = row && changeAnnotation(target, this.model.get("feedback"));
    if (row && annotation) this.annotate(row, annotation.field, annotation.value);
  }

  /**
   * Store feedback through the kernel's table.annotate, showing it at once.
   * @param {Row} row @param {string} field @param {string | null} value
   */
  annotate(row, field, value) {
    row[field] = value; // optimistic; the kernel's tick brings the stored value
    sendMessage(this.model, { type: "annotate", row_id: toRowId(row._id), field, value });
    this.layer.redraw(row);
    this.schedule();
  }
}
