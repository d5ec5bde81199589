// A text-only tooltip for vega views: values are shown with textContent,
// never as HTML (DESIGN invariant 8), and no extra library is bundled.
import { h } from "../shared/dom.js";

/**
 * A vega tooltip handler that shows `value` in a box inside `container`.
 * @param {HTMLElement} container  positioned ancestor of the plot
 * @returns {(handler: unknown, event: MouseEvent, item: unknown, value: unknown) => void}
 */
export function textTooltip(container) {
  const box = h("div", { class: "weave-nb-chart-tooltip", role: "tooltip" });
  box.hidden = true;
  container.append(box);
  return (_handler, event, _item, value) => {
    if (value === null || value === undefined || value === "") {
      box.hidden = true;
      return;
    }
    box.replaceChildren(...tooltipLines(value).map((line) => h("div", {}, line)));
    const bounds = container.getBoundingClientRect();
    box.style.left = `${event.clientX - bounds.left + 12}px`;
    box.style.top = `${event.clientY - bounds.top + 12}px`;
    box.hidden = false;
  };
}

/**
 * Lines of text for a tooltip value: one `key: value` line per field of an
 * object, or the value itself.
 * @param {unknown} value
 * @returns {string[]}
 */
export function tooltipLines(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value).map(([key, v]) => `${key}: ${String(v)}`);
  }
  return [String(value)];
}
