import { describe, expect, it } from "vitest";
import { tooltipLines } from "./tooltip.js";

describe("tooltipLines", () => {
  it("gives one key: value line per field", () => {
    expect(tooltipLines({ from: "12:00", rows: 3 })).toEqual(["from: 12:00", "rows: 3"]);
  });
  it("shows markup as the text it is", () => {
    expect(tooltipLines({ name: "<img src=x onerror=alert(1)>" })).toEqual(["name: <img src=x onerror=alert(1)>"]);
  });
  it("shows plain values and arrays as one line", () => {
    expect(tooltipLines(42)).toEqual(["42"]);
    expect(tooltipLines([1, 2])).toEqual(["1,2"]);
  });
});
