import { describe, expect, it } from "vitest";
import { themeConfig } from "./theme.js";

describe("themeConfig", () => {
  it("takes text and lines from the notebook theme", () => {
    /** @type {Record<string, string>} */
    const dark = {
      "--jp-ui-font-color1": " rgba(255, 255, 255, 0.87)",
      "--jp-ui-font-color2": "rgba(255, 255, 255, 0.54)",
      "--jp-border-color2": "#424242",
      "--jp-ui-font-family": "system-ui",
    };
    const config = themeConfig((name) => dark[name] ?? "");
    expect(config).toMatchObject({
      background: "transparent",
      font: "system-ui",
      title: { color: "rgba(255, 255, 255, 0.87)" },
      axis: { labelColor: "rgba(255, 255, 255, 0.54)", gridColor: "#424242" },
      legend: { titleColor: "rgba(255, 255, 255, 0.87)" },
    });
  });
  it("keeps vega's defaults outside Jupyter", () => {
    expect(themeConfig(() => "")).toEqual({});
  });
});
