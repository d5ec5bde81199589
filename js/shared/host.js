// Widget composition: boards render their panels, and charts reach the shared
// vega runtime, through the `host` anywidget >= 0.11 passes to render().

/** @typedef {import("@anywidget/types").Host} Host */

/**
 * `host`, or an error saying the front-end is too old to compose widgets
 * (shown in the view's place by its caller).
 * @param {Host | undefined} host
 * @returns {Host}
 */
export function requireHost(host) {
  if (!host) {
    throw new Error(
      "weave_nb charts and boards need the anywidget >= 0.11 front-end (widget composition through `host`).",
    );
  }
  return host;
}
