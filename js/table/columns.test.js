import { describe, expect, it } from "vitest";
import { columnGrid, hasFeedback, nextSort, shownColumns, withHidden } from "./columns.js";

const none = { thumbs: null, note: null, labels: {} };
const full = { thumbs: "thumbs", note: "note", labels: { label: ["a", "b"] } };

describe("columnGrid", () => {
  it("gives text flexible tracks and fixed-length values fixed ones", () => {
    const grid = columnGrid(
      [
        { name: "_id", kind: "text", type: "string" },
        { name: "_timestamp", kind: "time", type: "timestamp[us, tz=UTC]" },
        { name: "answer", kind: "text", type: "string" },
      ],
      none,
    );
    expect(grid.template).toBe("minmax(120px, 1fr) 184px minmax(140px, 2fr)");
    expect(grid.minWidth).toBe(120 + 184 + 140);
  });
  it("widens a fixed track to fit a long header name", () => {
    const grid = columnGrid(
      [
        { name: "img", kind: "image", type: "struct" },
        { name: "inputs.image", kind: "image", type: "struct" },
      ],
      none,
    );
    expect(grid.template).toBe(`84px ${12 * 8 + 30}px`);
  });
  it("adds a fixed feedback column sized by its controls", () => {
    const columns = [
      { name: "_id", kind: "text", type: "string" },
      { name: "_timestamp", kind: "time", type: "timestamp[us, tz=UTC]" },
      { name: "answer", kind: "text", type: "string" },
    ];
    const thumbsAndNote = columnGrid(columns, { ...full, labels: {} });
    const withLabel = columnGrid(columns, full);
    expect(thumbsAndNote.template).toMatch(/ \d+px$/);
    expect(withLabel.minWidth).toBeGreaterThan(thumbsAndNote.minWidth);
    // Ids, times, a text column, 👍/👎, a note and a label fit an 850 px notebook.
    expect(withLabel.minWidth).toBeLessThan(800);
  });
});

describe("hasFeedback", () => {
  it("is off only when no control is configured", () => {
    expect(hasFeedback(none)).toBe(false);
    expect(hasFeedback(full)).toBe(true);
  });
});

describe("nextSort", () => {
  it("cycles a header through ascending, descending and unsorted", () => {
    expect(nextSort([], "a")).toEqual([["a", "asc"]]);
    expect(nextSort([["a", "asc"]], "a")).toEqual([["a", "desc"]]);
    expect(nextSort([["a", "desc"]], "a")).toEqual([]);
    expect(nextSort([["a", "desc"]], "b")).toEqual([["b", "asc"]]);
  });
});

describe("hidden columns", () => {
  const columns = [
    { name: "a", kind: "text", type: "string" },
    { name: "b", kind: "image", type: "struct" },
  ];
  it("shows all but the hidden ones, in order", () => {
    expect(shownColumns(columns, ["a"]).map((c) => c.name)).toEqual(["b"]);
    expect(shownColumns(columns, []).map((c) => c.name)).toEqual(["a", "b"]);
  });
  it("hides and shows a column once", () => {
    expect(withHidden(["a"], "a", true)).toEqual(["a"]);
    expect(withHidden(["a"], "b", true)).toEqual(["a", "b"]);
    expect(withHidden(["a", "b"], "a", false)).toEqual(["b"]);
  });
  it("makes rows tall enough for thumbnails", () => {
    expect(columnGrid(columns.slice(0, 1), none).rowHeight).toBeLessThan(columnGrid(columns, none).rowHeight);
  });
});
