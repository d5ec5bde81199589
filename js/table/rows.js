// Row and cell elements: formatted text cells, image thumbnails, loading
// placeholders. Values reach the page as text only (DESIGN invariant 8).
import { cutSize } from "../shared/protocol.js";
import { h } from "../shared/dom.js";
import { formatCell, isErrorRow } from "./format.js";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {import("./columns.js").ColumnInfo} ColumnInfo
 * @typedef {{ png: Uint8Array, width: number, height: number }} ImageCell
 */

/** @param {unknown} value @returns {value is ImageCell} */
const isImage = (value) => Boolean(value && typeof value === "object" && "png" in value);

/** Object URLs of thumbnails, made once per cell value and revoked with its window. */
export class Thumbnails {
  constructor() {
    /** @type {WeakMap<object, string>} */
    this.urls = new WeakMap();
  }

  /** @param {ImageCell} image */
  url(image) {
    let url = this.urls.get(image);
    if (!url) {
      url = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (image.png)], { type: "image/png" }));
      this.urls.set(image, url);
    }
    return url;
  }

  /** Free the thumbnails of rows no longer cached. @param {Row[]} rows */
  revoke(rows) {
    for (const row of rows) {
      for (const value of Object.values(row)) {
        const url = value && typeof value === "object" ? this.urls.get(value) : undefined;
        if (url) URL.revokeObjectURL(url);
      }
    }
  }
}

/**
 * The element of one row.
 * @param {Row} row
 * @param {ColumnInfo[]} columns
 * @param {Thumbnails} thumbnails
 * @param {HTMLElement | null} feedback  the row's feedback cell, if shown.
 */
export function rowElement(row, columns, thumbnails, feedback) {
  const el = h("div", {
    class: `wnb-row${isErrorRow(row, columns) ? " wnb-error" : ""}`,
    role: "row",
    "data-row-id": String(row._id),
  });
  for (const column of columns) el.append(cellElement(row, column, thumbnails));
  if (feedback) el.append(feedback);
  return el;
}

/**
 * A grey row shown while the rows at `index` are on their way.
 * @param {ColumnInfo[]} columns
 */
export function placeholderRow(columns) {
  return h(
    "div",
    { class: "wnb-row wnb-loading", role: "row" },
    columns.map(() => h("div", { class: "wnb-cell" }, [h("span", { class: "wnb-skeleton" })])),
  );
}

/**
 * @param {Row} row
 * @param {ColumnInfo} column
 * @param {Thumbnails} thumbnails
 */
function cellElement(row, column, thumbnails) {
  const value = row[column.name];
  if (column.kind === "image" && isImage(value)) {
    return h("div", { class: "wnb-cell wnb-image", role: "gridcell", "data-cell": column.name }, [
      h("img", {
        src: thumbnails.url(value),
        alt: `image ${value.width}×${value.height}`,
        title: `${value.width}×${value.height} — click for full size`,
        "data-image-column": column.name,
        loading: "lazy",
      }),
    ]);
  }
  const view = formatCell(value, column.kind, cutSize(row, column.name));
  return h(
    "div",
    {
      class: `wnb-cell wnb-${view.cls}${view.full || view.partial ? " wnb-expandable" : ""}`,
      role: "gridcell",
      "data-cell": column.name,
      "data-cut": view.partial ? "true" : null,
      title: view.title,
    },
    view.text,
  );
}
