/**
 * The title a Vega-Lite spec draws ("" when none): shown with a chart's empty state.
 * @param {Record<string, unknown>} spec
 * @returns {string}
 */
export function specTitle(spec) {
  const title = /** @type {unknown} */ (spec?.title);
  if (typeof title === "string") return title;
  if (title && typeof title === "object" && "text" in title) return String(title.text);
  return "";
}
