// Chart colours from the notebook's theme: vega draws its own text and lines,
// so without this a dark JupyterLab theme shows black labels on a dark page.

/**
 * Vega-Lite config taking text, line and font from JupyterLab's CSS variables
 * (empty when they are not set, e.g. outside Jupyter: vega's defaults apply).
 * @param {(name: string) => string} read a CSS custom property's value ("" if unset)
 * @returns {Record<string, unknown>}
 */
export function themeConfig(read) {
  const text = read("--jp-ui-font-color1").trim();
  if (!text) return {};
  const muted = read("--jp-ui-font-color2").trim() || text;
  const grid = read("--jp-border-color2").trim() || muted;
  const font = read("--jp-ui-font-family").trim();
  return {
    // Vega-Lite paints a white background by default: the page's own shows through instead.
    background: "transparent",
    ...(font ? { font } : {}),
    title: { color: text },
    axis: { labelColor: muted, titleColor: text, gridColor: grid, domainColor: muted, tickColor: muted },
    legend: { labelColor: muted, titleColor: text },
    view: { stroke: grid },
  };
}

/**
 * Call `onChange` when JupyterLab switches between a light and a dark theme.
 * @param {() => void} onChange
 * @param {AbortSignal} signal
 */
export function onThemeChange(onChange, signal) {
  const observer = new MutationObserver(onChange);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  signal.addEventListener("abort", () => observer.disconnect());
}
