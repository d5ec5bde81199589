// The trace view of the table widget: the selected row's trace as a tree of
// calls beside a latency waterfall on one time axis, and the selected call's
// inputs, output, exception and attributes. The outline of the trace arrives
// in blocks of spans around what is shown (a trace of thousands of spans never
// travels whole); a call's whole row arrives when it is selected.
import { decodeRows, toJsonValue, toRowId } from "../shared/protocol.js";
import { adoptStyle, h, listen } from "../shared/dom.js";
import { formatCell } from "./format.js";
import { axisTicks, barGeometry, blocksFor, blocksToDrop, detailFields, formatDuration, SPAN_BLOCK } from "./trace_layout.js";
import { bodyHeight, visibleRange } from "./windows.js";
import css from "./trace.css";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {import("./columns.js").ColumnInfo} ColumnInfo
 * @typedef {import("./detail.js").Ask} Ask
 * @typedef {import("../shared/protocol.js").TraceReply} TraceReply
 * @typedef {{ png: Uint8Array, width: number, height: number }} ImageCell
 */

const SPAN_ROW_HEIGHT = 24;
/** Outline blocks kept in the browser; farther ones are dropped and asked again if needed. */
const KEPT_BLOCKS = 6;
const INDENT_PX = 14;
export class TracePanel {
  /**
   * @param {Ask} ask
   * @param {AbortSignal} signal
   */
  constructor(ask, signal) {
    this.ask = ask;
    this.signal = signal;
    /** @type {string | null} */
    this.traceId = null;
    this.total = 0;
    this.totalMs = 0;
    this.version = -1;
    /** Outline blocks by first span index. @type {Map<number, Row[]>} */
    this.blocks = new Map();
    /** @type {Set<number>} */
    this.loading = new Set();
    /** @type {unknown} */
    this.selectedId = null;
    /** Place of the selected call in the outline, when known (for the arrow keys). */
    this.selectedIndex = -1;
    /** A call picked before its block arrived: picked when it does. */
    this.pending = -1;
    /** Bumped on open/close so late replies never fill a newer trace. */
    this.opened = 0;
    /** @type {string[]} object URLs of the detail's images */
    this.urls = [];
    this.frame = 0;

    this.title = h("span", { class: "wnb-trace-title" });
    const close = h("button", { type: "button", class: "wnb-button", "aria-label": "close trace" }, "✕");
    listen(close, "click", () => this.close(), signal);
    this.axis = h("div", { class: "wnb-trace-axis" });
    this.layer = h("div", { class: "wnb-trace-layer", role: "rowgroup" });
    this.body = h("div", { class: "wnb-trace-body" }, [this.layer]);
    this.scroller = h("div", { class: "wnb-trace-spans", role: "tree", tabindex: 0, "aria-label": "calls of the trace" }, [
      h("div", { class: "wnb-trace-header" }, [h("div", { class: "wnb-trace-header-name" }, "call"), this.axis]),
      this.body,
    ]);
    this.detail = h("div", { class: "wnb-trace-detail", "data-role": "span-detail" });
    this.element = h("div", { class: "wnb-trace", "data-role": "trace" }, [
      h("div", { class: "wnb-trace-head" }, [this.title, close]),
      h("div", { class: "wnb-trace-main" }, [this.scroller, this.detail]),
    ]);
    this.element.hidden = true;
    listen(this.scroller, "scroll", () => this.schedule(), signal);
    const resize = new ResizeObserver(() => this.schedule());
    resize.observe(this.scroller);
    signal.addEventListener("abort", () => resize.disconnect());
    listen(this.layer, "click", (e) => this.onClick(e), signal);
    listen(this.scroller, "keydown", (e) => this.onKey(e), signal);
    signal.addEventListener("abort", () => this.close());
  }

  /**
   * Open the trace of the row `rowId` and select that row's call.
   * @param {unknown} rowId
   */
  async open(rowId) {
    const opened = ++this.opened;
    const { msg, buffers } = await this.ask({ type: "trace", row_id: toRowId(rowId), offset: 0, limit: SPAN_BLOCK });
    if (opened !== this.opened) return;
    if ("message" in msg) {
      this.close();
      return;
    }
    const sameTrace = msg.trace_id === this.traceId && !this.element.hidden;
    this.traceId = msg.trace_id;
    this.setOutline(msg, decodeRows(buffers[0]), sameTrace);
    adoptStyle(this.element, "table-trace", css); // shown, so attached to its root
    this.element.hidden = false;
    this.element.setAttribute("data-trace-id", String(msg.trace_id));
    if (!sameTrace) this.scroller.scrollTop = 0;
    this.selectedIndex = typeof msg.index === "number" ? msg.index : -1;
    if (this.selectedIndex >= 0) this.reveal(this.selectedIndex);
    void this.select(rowId);
  }

  /**
   * Scroll the span list so the span at `index` shows (its block is fetched as the view draws).
   * @param {number} index
   */
  reveal(index) {
    const top = index * SPAN_ROW_HEIGHT;
    const header = /** @type {HTMLElement} */ (this.scroller.firstElementChild);
    const height = this.scroller.clientHeight - header.offsetHeight;
    const scrollTop = this.scroller.scrollTop;
    if (height > 0 && top >= scrollTop && top + SPAN_ROW_HEIGHT <= scrollTop + height) return;
    // The body must be tall enough to scroll there before it is drawn.
    this.body.style.height = `${bodyHeight(this.total, SPAN_ROW_HEIGHT)}px`;
    this.scroller.scrollTop = Math.max(0, top - Math.max(0, height / 2));
    this.schedule();
  }

  close() {
    this.opened += 1;
    this.traceId = null;
    this.blocks.clear();
    this.loading.clear();
    this.element.hidden = true;
    this.layer.replaceChildren();
    this.clearDetail();
  }

  /**
   * The table changed: reread the blocks in view (the kernel rereads the trace once).
   * @param {number} version
   */
  refresh(version) {
    if (this.traceId === null || version <= this.version || this.loading.size) return;
    this.version = version;
    const kept = [...this.blocks.keys()];
    this.blocks.clear();
    for (const start of kept) void this.load(start);
  }

  /**
   * @param {TraceReply} msg
   * @param {Row[]} spans
   * @param {boolean} keepBlocks
   */
  setOutline(msg, spans, keepBlocks) {
    if (!keepBlocks) this.blocks.clear();
    this.total = msg.total;
    this.totalMs = msg.total_ms;
    this.version = Math.max(this.version, msg.version);
    this.blocks.set(msg.offset, spans);
    if (this.pending >= msg.offset && this.pending < msg.offset + spans.length) this.pick(this.pending);
    this.element.setAttribute("data-span-count", String(msg.total));
    const id = String(this.traceId);
    this.title.textContent = `trace ${id.length > 20 ? `${id.slice(0, 20)}…` : id} · ${msg.total} call${
      msg.total === 1 ? "" : "s"
    } · ${formatDuration(msg.total_ms)}`;
    this.title.title = id;
    this.schedule();
  }

  /** @param {number} start */
  async load(start) {
    if (this.loading.has(start) || this.traceId === null) return;
    this.loading.add(start);
    const opened = this.opened;
    const { msg, buffers } = await this.ask({
      type: "trace", trace_id: this.traceId, offset: start, limit: SPAN_BLOCK,
    });
    this.loading.delete(start);
    if (opened !== this.opened || "message" in msg) return;
    this.setOutline(msg, decodeRows(buffers[0]), true);
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** @param {number} index @returns {Row | undefined} */
  span(index) {
    const start = Math.floor(index / SPAN_BLOCK) * SPAN_BLOCK;
    return this.blocks.get(start)?.[index - start];
  }

  draw() {
    if (this.signal.aborted || this.element.hidden || this.scroller.clientHeight === 0) return;
    const header = /** @type {HTMLElement} */ (this.scroller.firstElementChild);
    const geometry = {
      scrollTop: this.scroller.scrollTop,
      viewportHeight: Math.max(0, this.scroller.clientHeight - header.offsetHeight),
      rowHeight: SPAN_ROW_HEIGHT,
      total: this.total,
    };
    this.body.style.height = `${bodyHeight(this.total, SPAN_ROW_HEIGHT)}px`;
    const range = visibleRange(geometry);
    for (const start of blocksFor(range.first, range.count, this.total)) {
      if (!this.blocks.has(start)) void this.load(start);
    }
    for (const start of blocksToDrop([...this.blocks.keys()], range.first, KEPT_BLOCKS)) this.blocks.delete(start);
    this.drawAxis();
    this.layer.style.transform = `translateY(${range.top}px)`;
    /** @type {HTMLElement[]} */
    const rows = [];
    for (let i = range.first; i < range.first + range.count; i++) rows.push(this.spanElement(this.span(i), i));
    this.layer.replaceChildren(...rows);
  }

  /** Time-axis ticks, as many as fit the axis's width (redrawn when it or the trace changes). */
  drawAxis() {
    const most = Math.max(2, Math.floor(this.axis.clientWidth / 64));
    const key = `${most}:${this.totalMs}`;
    if (this.axis.dataset.ticks === key) return;
    this.axis.dataset.ticks = key;
    this.axis.replaceChildren(
      ...axisTicks(this.totalMs, most).map((t) => {
        const left = this.totalMs > 0 ? (t / this.totalMs) * 100 : 0;
        // Labels near the right end are drawn leftwards of their tick, so they stay inside.
        const cls = left > 95 ? "wnb-tick wnb-tick-end" : "wnb-tick";
        return h("span", { class: cls, style: `left: ${left}%` }, t === 0 ? "0" : formatDuration(t));
      }),
    );
  }

  /** @param {Row | undefined} span @param {number} index */
  spanElement(span, index) {
    if (!span) return h("div", { class: "wnb-span wnb-loading" }, [h("span", { class: "wnb-skeleton" })]);
    const failed = span.failed === true; // the kernel knows which status is a failure
    const depth = Number(span.depth ?? 0);
    const selected = this.selectedId !== null && String(span._id) === String(this.selectedId);
    const bar = barGeometry(Number(span.offset_ms ?? 0), Number(span.duration_ms ?? 0), this.totalMs);
    return h(
      "div",
      {
        class: `wnb-span${failed ? " wnb-span-error" : ""}${selected ? " wnb-span-selected" : ""}`,
        role: "treeitem",
        "aria-level": depth + 1,
        "aria-selected": String(selected),
        "data-span-id": String(span._id),
        "data-index": index,
        "data-depth": depth,
      },
      [
        h("div", { class: "wnb-span-name", style: `padding-left: ${6 + depth * INDENT_PX}px`, title: String(span.name ?? "") }, [
          h("span", { class: `wnb-dot ${failed ? "wnb-dot-error" : "wnb-dot-ok"}`, title: String(span.status ?? "") }),
          h("span", { class: "wnb-span-label" }, String(span.name ?? "(unnamed)")),
          h("span", { class: "wnb-span-latency" }, formatDuration(/** @type {number} */ (span.duration_ms))),
        ]),
        h("div", { class: "wnb-span-track" }, [
          h("div", {
            class: `wnb-bar${failed ? " wnb-bar-error" : ""}`,
            style: `left: ${bar.left}%; width: ${bar.width}%`,
            title: `starts at ${formatDuration(/** @type {number} */ (span.offset_ms))}, takes ${formatDuration(/** @type {number} */ (span.duration_ms))}`,
          }),
        ]),
      ],
    );
  }

  /** @param {MouseEvent} event */
  onClick(event) {
    const item = /** @type {Element} */ (event.target).closest("[data-span-id]");
    const index = Number(item?.getAttribute("data-index") ?? -1);
    this.pick(index);
  }

  /**
   * Select the call at `index` of the outline (if loaded) and keep it in view.
   * @param {number} index
   */
  pick(index) {
    if (index < 0 || index >= this.total) return;
    const span = this.span(index);
    this.pending = span ? -1 : index;
    if (!span) {
      this.reveal(index); // its block loads as the view draws, then it is picked
      return;
    }
    this.selectedIndex = index;
    this.reveal(index);
    // Ask by the row's own id value (an int stays an int), not the element's text.
    void this.select(toJsonValue(span._id));
  }

  /** Arrow keys move the selection through the calls, Home/End jump to the ends. @param {KeyboardEvent} event */
  onKey(event) {
    const moves = { ArrowDown: this.selectedIndex + 1, ArrowUp: this.selectedIndex - 1, Home: 0, End: this.total - 1 };
    const next = moves[/** @type {keyof typeof moves} */ (event.key)];
    if (next === undefined) return;
    event.preventDefault();
    this.pick(Math.max(0, Math.min(this.total - 1, next)));
  }

  /**
   * Select a call and show its details.
   * @param {unknown} spanId
   */
  async select(spanId) {
    this.selectedId = spanId;
    this.schedule();
    const opened = this.opened;
    this.detail.replaceChildren(h("div", { class: "wnb-muted" }, "loading the call…"));
    const { msg, buffers } = await this.ask({ type: "span", row_id: toRowId(spanId) });
    if (opened !== this.opened || spanId !== this.selectedId) return;
    this.clearDetail();
    if ("message" in msg) {
      this.detail.append(h("div", { class: "wnb-muted" }, msg.message));
      return;
    }
    const row = decodeRows(buffers[0])[0];
    this.detail.append(...this.fields(row, msg.columns));
  }

  clearDetail() {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    this.detail.replaceChildren();
  }

  /**
   * The call's fields as label/value pairs (see {@link detailFields}).
   * @param {Row} row @param {ColumnInfo[]} columns
   */
  fields(row, columns) {
    return detailFields(row, columns).map(({ column, value, error }) =>
      h("div", { class: `wnb-field${error ? " wnb-field-error" : ""}`, "data-field": column.name }, [
        h("div", { class: "wnb-field-name" }, column.name),
        this.fieldValue(value, column),
      ]),
    );
  }

  /** @param {unknown} value @param {ColumnInfo} column */
  fieldValue(value, column) {
    if (column.kind === "image" && value && typeof value === "object" && "png" in value) {
      const image = /** @type {ImageCell} */ (value);
      const url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (image.png)], { type: "image/png" }));
      this.urls.push(url);
      return h("img", { src: url, class: "wnb-field-image", alt: `${column.name} ${image.width}×${image.height}` });
    }
    // Calls of several functions share one inputs struct: leave out the other functions' fields.
    const shown = column.name === "inputs" ? withoutNulls(value) : value;
    const view = formatCell(shown, column.kind); // nested values as indented JSON, exceptions with traceback
    return h("pre", { class: "wnb-field-value" }, view.full ?? view.text);
  }
}

/**
 * A struct's fields without the null ones (other values unchanged).
 * @param {unknown} value
 */
function withoutNulls(value) {
  if (!value || typeof value !== "object" || Array.isArray(value) || ArrayBuffer.isView(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}
