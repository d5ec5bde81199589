// Tiny DOM helpers. Values from data only ever reach the page through
// textContent or attributes, never innerHTML (DESIGN invariant 8).

/**
 * Create an element with attributes and text or child nodes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attrs]
 *   `class` sets className; `false`/`null`/`undefined` values are omitted.
 * @param {(Node | string)[] | string} [children]  strings become text nodes.
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name === "className" ? "class" : name, value === true ? "" : String(value));
  }
  if (typeof children === "string") el.textContent = children;
  else el.append(...children);
  return el;
}

/**
 * Listen to an event until `signal` aborts.
 * @param {EventTarget} target
 * @param {string} type
 * @param {(event: any) => void} handler
 * @param {AbortSignal} signal
 */
export function listen(target, type, handler, signal) {
  target.addEventListener(type, handler, { signal });
}

/**
 * Listen to model events until `signal` aborts (a view must not outlive its
 * element: the model stays, and so would every listener left on it).
 * @param {import("@anywidget/types").AnyModel<any>} model
 * @param {string[]} events  e.g. `["change:sort", "msg:custom"]`
 * @param {(...args: any[]) => void} handler
 * @param {AbortSignal} signal
 */
export function listenModel(model, events, handler, signal) {
  if (signal.aborted) return;
  for (const event of events) model.on(event, handler);
  signal.addEventListener("abort", () => {
    for (const event of events) model.off(event, handler);
  });
}

/**
 * Add a stylesheet once per `name` where the view of `el` is styled from:
 * the shadow root `el` is rendered in (marimo renders each output in one),
 * else the document's head (JupyterLab, Notebook 7, or an `el` not attached
 * yet). The styles ship inside the ESM rather than anywidget's `_css` trait:
 * a host may cache the ESM (marimo imports it once per hash) but sends `_css`
 * with every instance's state.
 * @param {Node} el  the element the view renders into
 * @param {string} name
 * @param {string} css
 */
export function adoptStyle(el, name, css) {
  const root = el.getRootNode();
  const scope = root instanceof ShadowRoot ? root : document.head;
  if (scope.querySelector(`style[data-weave-nb-style="${name}"]`)) return;
  scope.append(h("style", { "data-weave-nb-style": name }, css));
}
