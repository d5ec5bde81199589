import { describe, expect, it } from "vitest";
import { axisTicks, barGeometry, blocksFor, blocksToDrop, detailFields, formatDuration } from "./trace_layout.js";

describe("barGeometry", () => {
  it("places a span by its start and duration on the trace's axis", () => {
    expect(barGeometry(250, 500, 1000)).toEqual({ left: 25, width: 50 });
  });
  it("keeps instant spans visible and bars inside the axis", () => {
    const bar = barGeometry(1000, 0, 1000);
    expect(bar.width).toBeGreaterThan(0);
    expect(bar.left + bar.width).toBeLessThanOrEqual(100);
  });
  it("fills the axis for a trace without duration, and treats missing times as zero", () => {
    expect(barGeometry(0, 0, 0)).toEqual({ left: 0, width: 100 });
    expect(barGeometry(null, null, 10).left).toBe(0);
  });
});

describe("axisTicks", () => {
  it("gives round steps from zero up to the trace's duration", () => {
    expect(axisTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(axisTicks(37)).toEqual([0, 10, 20, 30]);
  });
  it("copes with an empty trace", () => {
    expect(axisTicks(0)).toEqual([0]);
  });
});

describe("formatDuration", () => {
  it("picks a unit people read at a glance", () => {
    expect(formatDuration(0.25)).toBe("250 µs");
    expect(formatDuration(12.345)).toBe("12.3 ms");
    expect(formatDuration(250.4)).toBe("250 ms");
    expect(formatDuration(1240)).toBe("1.24 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(null)).toBe("–");
  });
});

describe("blocksFor / blocksToDrop", () => {
  it("asks only for the blocks covering the visible spans", () => {
    expect(blocksFor(0, 12, 1000)).toEqual([0]);
    expect(blocksFor(95, 12, 1000)).toEqual([0, 100]);
    expect(blocksFor(990, 20, 1000)).toEqual([900]);
    expect(blocksFor(0, 0, 0)).toEqual([]);
  });
  it("evicts the blocks farthest from the view", () => {
    expect(blocksToDrop([0, 100, 200, 300, 900], 850, 3).sort((a, b) => a - b)).toEqual([0, 100]);
    expect(blocksToDrop([0, 100], 0, 3)).toEqual([]);
  });
});

describe("detailFields", () => {
  /** @param {string} name @param {"error"} [role] */
  const column = (name, role) => ({ name, kind: /** @type {const} */ ("text"), type: "string", ...(role ? { role } : {}) });
  it("shows the important fields first, then the rest, without empty or linking ones", () => {
    const columns = [column("_id"), column("trace_id"), column("prompt"), column("latency_ms"), column("name")];
    const row = { _id: "a", trace_id: "t", prompt: "hi", latency_ms: 3, name: null };
    expect(detailFields(row, columns).map((f) => f.column.name)).toEqual(["latency_ms", "_id", "prompt"]);
  });
  it("marks the field of the column with the error role, whatever its name", () => {
    const columns = [column("exception"), column("failure", "error")];
    const fields = detailFields({ exception: "not this one", failure: "boom" }, columns);
    expect(fields.map((f) => [f.column.name, f.error])).toEqual([["exception", false], ["failure", true]]);
  });
});
