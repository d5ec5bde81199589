// The board view: header stats, a date-range control and a filter box that
// apply to every panel, a responsive grid of chart widgets and the table
// widget. Panels and the table are child widgets rendered through
// anywidget's `host`, so each keeps its own model, comm and protocol.
import { adoptStyle, h, listen, listenModel } from "../shared/dom.js";
import { requireHost } from "../shared/host.js";
import { sendMessage, versionMismatch } from "../shared/protocol.js";
import css from "./style.css";

/**
 * Relative date ranges offered by the control; the kernel accepts the same
 * names (weave_nb/widgets/board.py RANGES). "custom" is shown when Python
 * set an absolute range.
 */
export const RANGES = [
  ["all", "All time"],
  ["15m", "Last 15 min"],
  ["1h", "Last hour"],
  ["6h", "Last 6 hours"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
];

/**
 * @typedef {import("../shared/protocol.js").BoardState} BoardState
 * @typedef {import("@anywidget/types").AnyModel<BoardState>} BoardModel
 * @typedef {import("@anywidget/types").Host} Host
 */

/**
 * Render a board model into `el` until `signal` aborts.
 * @param {{ model: BoardModel, el: HTMLElement, signal: AbortSignal, host: Host }} props
 */
export function renderBoard({ model, el, signal, host }) {
  adoptStyle(el, "board", css);
  const mismatch = versionMismatch("board", model.get("protocol"));
  if (mismatch) {
    el.replaceChildren(h("div", { class: "weave-nb-board-error" }, mismatch));
    return;
  }
  const title = h("div", { class: "weave-nb-board-title" });
  const stats = h("div", { class: "weave-nb-board-stats" });
  const range = h(
    "select",
    { class: "weave-nb-board-range", "data-role": "range", "aria-label": "Date range" },
    RANGES.map(([value, label]) => h("option", { value }, label)),
  );
  const filter = h("input", {
    class: "weave-nb-board-filter",
    "data-role": "board-filter",
    type: "text",
    spellcheck: "false",
    placeholder: "filter, e.g. status = 'error' and latency_ms > 500",
    "aria-label": "Filter every panel",
  });
  const filterError = h("div", { class: "weave-nb-board-error", "data-role": "filter-error" });
  const selectionText = h("span");
  const clearSelection = h("button", { type: "button", "data-role": "clear-selection", title: "Clear selection" }, "✕");
  const selection = h("div", { class: "weave-nb-board-selection", "data-role": "selection" }, [selectionText, clearSelection]);
  const grid = h("div", { class: "weave-nb-board-grid" });
  const table = h("div", { class: "weave-nb-board-table" });
  const root = h("div", { class: "weave-nb-board", "data-weave-nb": "board" }, [
    h("div", { class: "weave-nb-board-header" }, [title, stats]),
    h("div", { class: "weave-nb-board-controls" }, [range, filter]),
    filterError,
    selection,
    grid,
    table,
  ]);
  el.replaceChildren(root);

  const showHeader = () => {
    title.textContent = model.get("title");
    stats.replaceChildren(
      ...model.get("stats").map((stat) =>
        h("div", { class: `weave-nb-board-stat ${stat.tone ? `tone-${stat.tone}` : ""}`, "data-stat": stat.label }, [
          h("div", { class: "weave-nb-board-stat-value" }, stat.value),
          h("div", { class: "weave-nb-board-stat-label" }, stat.label),
        ]),
      ),
    );
  };
  const showRange = () => {
    const value = model.get("range");
    if (![...range.options].some((option) => option.value === value)) {
      range.append(h("option", { value }, value === "custom" ? "Custom range" : value));
    }
    range.value = value;
  };
  const showFilter = () => {
    if (document.activeElement !== filter) filter.value = model.get("filter");
    const error = model.get("filter_error");
    filterError.textContent = error;
    filterError.hidden = !error;
    filter.classList.toggle("invalid", Boolean(error));
  };
  const showSelection = () => {
    const text = model.get("selection");
    selection.hidden = !text;
    selectionText.textContent = text ? `Table filtered by chart selection: ${text}` : "";
  };

  // Child views live until the list changes or the board view goes away.
  /** @type {AbortController | null} */
  let panelViews = null;
  const showPanels = () => {
    panelViews?.abort();
    panelViews = new AbortController();
    const childSignal = AbortSignal.any([signal, panelViews.signal]);
    grid.replaceChildren();
    for (const ref of model.get("panels")) {
      const cell = h("div", { class: "weave-nb-board-panel", "data-panel": ref });
      grid.append(cell);
      mountChild(host, ref, cell, childSignal);
    }
  };
  /** @type {AbortController | null} */
  let tableView = null;
  const showTable = () => {
    tableView?.abort();
    tableView = new AbortController();
    table.replaceChildren();
    const ref = model.get("table_widget");
    if (ref) mountChild(host, ref, table, AbortSignal.any([signal, tableView.signal]));
  };

  listen(clearSelection, "click", () => sendMessage(model, { type: "clear_selection" }), signal);
  listen(range, "change", () => {
    model.set("range", range.value);
    model.save_changes();
  }, signal);
  const submitFilter = () => {
    model.set("filter", filter.value.trim());
    model.save_changes();
  };
  listen(filter, "keydown", (/** @type {KeyboardEvent} */ event) => {
    if (event.key === "Enter") submitFilter();
  }, signal);
  listen(filter, "blur", submitFilter, signal);

  showHeader();
  showRange();
  showFilter();
  showSelection();
  showPanels();
  showTable();
  listenModel(model, ["change:title", "change:stats"], showHeader, signal);
  listenModel(model, ["change:range"], showRange, signal);
  listenModel(model, ["change:filter", "change:filter_error"], showFilter, signal);
  listenModel(model, ["change:selection"], showSelection, signal);
  listenModel(model, ["change:panels"], showPanels, signal);
  listenModel(model, ["change:table_widget"], showTable, signal);
}

/**
 * Render the child widget `ref` into `cell`; a failure is shown in the cell.
 * @param {Host | undefined} host  missing in front-ends older than anywidget 0.11
 * @param {string} ref
 * @param {HTMLElement} cell
 * @param {AbortSignal} signal
 */
async function mountChild(host, ref, cell, signal) {
  try {
    const child = await requireHost(host).getWidget(ref);
    if (!signal.aborted) await child.render({ el: cell, signal });
  } catch (error) {
    cell.replaceChildren(h("div", { class: "weave-nb-board-error" }, String(error)));
  }
}
