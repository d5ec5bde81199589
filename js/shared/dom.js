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
  for (const event of events) model.on(event, handler);
  signal.addEventListener("abort", () => {
    for (const event of events) model.off(event, handler);
  });
}

/**
 * Add a stylesheet to the document once per `name` (all views share it).
 * Styles ship inside the ESM so a view rendered by another widget (a board
 * embedding a table) is styled too.
 * @param {string} name
 * @param {string} css
 */
export function adoptStyle(name, css) {
  if (document.head.querySelector(`style[data-weave-nb-style="${name}"]`)) return;
  document.head.append(h("style", { "data-weave-nb-style": name }, css));
}
