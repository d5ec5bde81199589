import { describe, expect, it } from "vitest";
import { requireHost } from "./host.js";

describe("requireHost", () => {
  it("passes a host through", () => {
    const host = { getWidget: async () => ({}), getModel: async () => ({}) };
    expect(requireHost(/** @type {any} */ (host))).toBe(host);
  });
  it("says which front-end is needed when there is none", () => {
    expect(() => requireHost(undefined)).toThrow(/anywidget >= 0\.11/);
  });
});
