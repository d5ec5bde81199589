// The detail overlay: a cell's whole value (asked from the kernel when the
// window carried it cut short) or an image at full size.
import { decodeRows, toRowId } from "../shared/protocol.js";
import { h, listen } from "../shared/dom.js";
import { formatCell } from "./format.js";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {import("./columns.js").ColumnInfo} ColumnInfo
 * @typedef {import("../shared/protocol.js").Question} Question
 * @typedef {import("../shared/protocol.js").Answers} Answers
 * @typedef {<Q extends Question>(message: Q) => Promise<import("../shared/protocol.js").Answer<Q["type"]>>} Ask
 *   Send a request to the kernel (a `request` id is added) and wait for its reply.
 */

export class Detail {
  /**
   * @param {Ask} ask
   * @param {AbortSignal} signal
   */
  constructor(ask, signal) {
    this.ask = ask;
    this.signal = signal;
    this.element = h("div", { class: "wnb-detail", "data-role": "detail", role: "dialog" });
    this.element.hidden = true;
    /** Bumped on every open/close so a late reply never fills a newer overlay. */
    this.shown = 0;
    signal.addEventListener("abort", () => this.close());
  }

  /** @param {string} title @param {Node} content @returns {number} the overlay's number. */
  open(title, content) {
    this.close();
    const close = h("button", { type: "button", class: "wnb-button", "aria-label": "close" }, "✕");
    listen(close, "click", () => this.close(), this.signal);
    this.element.replaceChildren(
      h("div", { class: "wnb-detail-head" }, [h("span", {}, title), close]),
      h("div", { class: "wnb-detail-body" }, [content]),
    );
    this.element.hidden = false;
    close.focus();
    return this.shown;
  }

  close() {
    const img = this.element.querySelector("img");
    if (img) URL.revokeObjectURL(img.src);
    this.element.hidden = true;
    this.element.replaceChildren();
    this.shown += 1;
  }

  /**
   * Show the whole value of `row[column.name]`, asking the kernel for it when
   * the window carried it cut short.
   * @param {Row} row @param {ColumnInfo} column @param {boolean} partial
   */
  async showCell(row, column, partial) {
    const pre = h("pre", {}, partial ? "loading the whole value…" : fullText(row[column.name], column));
    const shown = this.open(`${column.name} · ${String(row._id)}`, pre);
    if (!partial) return;
    const { msg, buffers } = await this.ask({ type: "cell", row_id: toRowId(row._id), column: column.name });
    if (shown !== this.shown) return; // closed or replaced meanwhile
    const whole = "message" in msg ? undefined : decodeRows(buffers[0])[0];
    pre.textContent = whole ? fullText(whole[column.name], column) : "message" in msg ? msg.message : "value not found";
  }

  /** @param {Row} row @param {string} column */
  async showImage(row, column) {
    const status = h("div", { class: "wnb-muted" }, "loading full image…");
    const shown = this.open(`${column} · ${String(row._id)}`, status);
    const { msg, buffers } = await this.ask({ type: "image", row_id: toRowId(row._id), column });
    if (shown !== this.shown) return;
    if ("message" in msg) {
      status.textContent = msg.message;
      return;
    }
    const url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (buffers[0])], { type: "image/png" }));
    status.replaceWith(h("img", { src: url, alt: `${column} ${msg.width}×${msg.height}`, class: "wnb-full-image" }));
  }
}

/** @param {unknown} value @param {ColumnInfo} column */
function fullText(value, column) {
  const view = formatCell(value, column.kind);
  return view.full ?? view.text;
}
