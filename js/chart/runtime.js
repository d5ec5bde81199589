// Resolves the shared vega runtime (js/vega_runtime.js) a chart points to.
import { requireHost } from "../shared/host.js";

/**
 * @typedef {import("../vega_runtime.js").VegaRuntime} VegaRuntime
 * @typedef {import("@anywidget/types").Host} Host
 */

/**
 * The runtime exported by the hidden runtime widget whose reference
 * (`"anywidget:<model id>"`) is in the chart's `runtime` trait.
 *
 * anywidget caches each widget's module and exports, so every chart of a
 * kernel shares one import of the bundle.
 * @param {string} ref
 * @param {Host | undefined} host
 * @returns {Promise<VegaRuntime>}
 */
export async function resolveRuntime(ref, host) {
  const { exports } = await requireHost(host).getWidget(ref);
  const runtime = /** @type {Partial<VegaRuntime> | undefined} */ (exports);
  if (!runtime?.vega || !runtime.compile) {
    throw new Error(`the widget ${ref} does not export the vega runtime`);
  }
  return /** @type {VegaRuntime} */ (runtime);
}
