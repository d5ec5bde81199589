import { describe, expect, it } from "vitest";
import { pickDatum, rowFields } from "./datum.js";

describe("pickDatum", () => {
  const fields = ["bucket", "bucket_end", "group", "value"];
  it("keeps only the fields the kernel sent", () => {
    const datum = { bucket: 1, bucket_end: 2, value: 3, value_start: 0, value_end: 3, [Symbol("vega_id")]: 7 };
    expect(pickDatum(datum, fields)).toEqual({ bucket: 1, bucket_end: 2, value: 3 });
  });
  it("keeps nulls the kernel sent", () => {
    expect(pickDatum({ group: null, value: 1 }, fields)).toEqual({ group: null, value: 1 });
  });
  it("is null for a click on nothing of the data", () => {
    expect(pickDatum(undefined, fields)).toBeNull();
    expect(pickDatum({ x: 1 }, fields)).toBeNull();
    expect(pickDatum("text", fields)).toBeNull();
  });
});

describe("rowFields", () => {
  it("is the union of the rows' keys in first-seen order", () => {
    expect(rowFields([{ a: 1 }, { b: 2, a: 3 }, {}])).toEqual(["a", "b"]);
    expect(rowFields([])).toEqual([]);
  });
});
