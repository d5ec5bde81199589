import { describe, expect, it } from "vitest";
import { specTitle } from "./title.js";

describe("specTitle", () => {
  it("reads a plain or an object title", () => {
    expect(specTitle({ title: "Feedback over time" })).toBe("Feedback over time");
    expect(specTitle({ title: { text: "Calls", anchor: "start" } })).toBe("Calls");
  });
  it("is empty without a title or a spec", () => {
    expect(specTitle({})).toBe("");
    expect(specTitle({ title: 3 })).toBe("");
  });
});
