// The vega + vega-lite runtime, shipped to the browser once per kernel.
//
// anywidget sends a widget's `_esm` with every instance, so bundling vega
// (about 1 MB) into the chart entry would ship it again for every chart on a
// board. Instead this module is the `_esm` of one hidden singleton widget per
// kernel (weave_nb/widgets/_runtime.py). Its `initialize` returns the runtime
// as the widget's exports; charts reach it through anywidget's
// `host.getWidget(ref)`, which resolves to those exports.
import * as vega from "vega";
import { compile } from "vega-lite";

/**
 * @typedef {{ vega: typeof vega, compile: typeof compile }} VegaRuntime
 */

export default {
  /** @returns {VegaRuntime} */
  initialize() {
    return { vega, compile };
  },
};
