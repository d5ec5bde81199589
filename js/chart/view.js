// The chart view: one vega view per widget view, fed by the kernel's
// aggregated rows. New rows replace the view's data through a changeset, so
// an update re-runs the dataflow without rebuilding the DOM (no flicker).
import { adoptStyle, h, listen, listenModel } from "../shared/dom.js";
import { sendMessage, versionMismatch } from "../shared/protocol.js";
import { pickDatum, rowFields } from "./datum.js";
import { resolveRuntime } from "./runtime.js";
import { onThemeChange, themeConfig } from "./theme.js";
import { specTitle } from "./title.js";
import { textTooltip } from "./tooltip.js";
import css from "./style.css";

/**
 * Name of the data source every chart spec reads (`{"data": {"name": ...}}`);
 * the Python twin is weave_nb/charts/_spec.py DATA_NAME.
 */
export const DATA_NAME = "data";

/**
 * @typedef {Record<string, unknown>} Row
 * @typedef {import("../shared/protocol.js").ChartState} ChartState
 * @typedef {import("@anywidget/types").AnyModel<ChartState>} ChartModel
 * @typedef {import("@anywidget/types").Host} Host
 * @typedef {import("vega").View} VegaView
 */

/**
 * Render a chart model into `el` until `signal` aborts.
 * @param {{ model: ChartModel, el: HTMLElement, signal: AbortSignal, host: Host }} props
 */
export async function renderChart({ model, el, signal, host }) {
  adoptStyle(el, "chart", css);
  const mismatch = versionMismatch("chart", model.get("protocol"));
  if (mismatch) {
    el.replaceChildren(h("div", { class: "weave-nb-chart-message" }, mismatch));
    return;
  }
  const plot = h("div", { class: "weave-nb-chart-plot" });
  const message = h("div", { class: "weave-nb-chart-message" });
  // The empty state (say, "No feedback yet"): the title and a note in the plot's place.
  const empty = h("div", { class: "weave-nb-chart-empty", "data-role": "empty" });
  const root = h("div", { class: "weave-nb-chart", "data-weave-nb": "chart", "data-points": "0" }, [
    plot,
    empty,
    message,
  ]);
  el.replaceChildren(root);

  /** @param {string} text */
  const showMessage = (text) => {
    message.textContent = text;
    message.hidden = !text;
  };
  showMessage(model.get("error") || "");
  const showEmpty = () => {
    const text = model.get("empty") || "";
    empty.replaceChildren(
      h("div", { class: "weave-nb-chart-empty-title" }, specTitle(model.get("spec"))),
      h("div", {}, text),
    );
    empty.hidden = !text;
    root.classList.toggle("is-empty", Boolean(text));
  };
  showEmpty();

  let runtime;
  try {
    runtime = await resolveRuntime(model.get("runtime"), host);
  } catch (error) {
    showMessage(String(error));
    return;
  }
  if (signal.aborted) return; // removed while the runtime loaded
  const { vega, compile } = runtime;
  const tooltip = textTooltip(root);

  /** @type {VegaView | null} */
  let view = null;
  /** @type {string[]} */
  let fields = [];
  // Updates are applied one at a time, in order: a slow runAsync must not
  // let an older data set overwrite a newer one.
  let queue = Promise.resolve();
  /** @param {() => Promise<void>} task */
  const enqueue = (task) => {
    queue = queue.then(task).catch((error) => showMessage(String(error)));
  };

  const build = async () => {
    if (signal.aborted) return;
    view?.finalize();
    view = null;
    const spec = model.get("spec");
    // No spec yet: the kernel could not compute the chart and says why in `error`.
    if (Object.keys(spec).length === 0) return;
    // Read from the page, not the chart: a view may be built before it is attached.
    const style = getComputedStyle(document.documentElement);
    const config = themeConfig((name) => style.getPropertyValue(name));
    const compiled = compile(/** @type {any} */ (spec), { config }).spec;
    const next = new vega.View(vega.parse(compiled), {
      container: plot,
      renderer: "svg",
      hover: true,
      tooltip,
    });
    next.addEventListener("click", (_event, item) => {
      const datum = pickDatum(item?.datum, fields);
      sendMessage(model, { type: "select", datum });
    });
    view = next;
    await setData(model.get("data"));
  };

  /** @param {Row[]} rows */
  const setData = async (rows) => {
    if (!view) return;
    fields = rowFields(rows);
    view.change(DATA_NAME, vega.changeset().remove(vega.truthy).insert(rows.map((r) => ({ ...r }))));
    await view.runAsync();
    root.dataset.points = String(rows.length);
  };

  enqueue(build);
  listenModel(model, ["change:spec"], () => enqueue(build), signal);
  onThemeChange(() => enqueue(build), signal);
  listenModel(model, ["change:data"], () => enqueue(() => setData(model.get("data"))), signal);
  listenModel(model, ["change:error"], () => showMessage(model.get("error") || ""), signal);
  listenModel(model, ["change:empty", "change:spec"], showEmpty, signal);

  // Width follows the container (board grid cells resize with the page).
  const resize = new ResizeObserver(() => {
    const width = plot.clientWidth;
    if (view && width > 0 && width !== view.width()) {
      const current = view;
      enqueue(async () => {
        current.width(width);
        await current.runAsync();
      });
    }
  });
  resize.observe(plot);
  listen(plot, "mouseleave", () => tooltip(null, new MouseEvent("mouseleave"), null, null), signal);
  signal.addEventListener("abort", () => {
    resize.disconnect();
    view?.finalize();
    view = null;
  });
}
