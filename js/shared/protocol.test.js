import { describe, expect, it } from "vitest";
import { tableFromArrays, tableToIPC } from "@uwdata/flechette";
import { cutSize, decodeRows, toJsonValue } from "./protocol.js";

/** An Arrow IPC stream like a kernel window, with `metadata` on its schema. */
function window(metadata) {
  const table = tableFromArrays({ _id: ["a", "b"], prompt: ["x".repeat(5), "short"], meta: ["{}", "{}"] });
  if (metadata) table.schema.metadata = new Map(Object.entries(metadata));
  return tableToIPC(table, { format: "stream" });
}

describe("decodeRows", () => {
  it("decodes rows and remembers the cells the kernel cut short", () => {
    const rows = decodeRows(window({ "weave_nb.truncated": JSON.stringify({ prompt: { 0: 5000 }, meta: { 1: null } }) }));
    expect(rows.map((r) => r._id)).toEqual(["a", "b"]);
    expect(cutSize(rows[0], "prompt")).toBe(5000);
    expect(cutSize(rows[1], "meta")).toBeNull();
    expect(cutSize(rows[1], "prompt")).toBeUndefined();
    expect(cutSize(rows[0], "meta")).toBeUndefined();
  });
  it("marks nothing in a window without the metadata", () => {
    const rows = decodeRows(window());
    expect(cutSize(rows[0], "prompt")).toBeUndefined();
  });
});

describe("toJsonValue", () => {
  it("turns BigInt into a number when exact, else into its decimal text", () => {
    expect(toJsonValue(5n)).toBe(5);
    expect(toJsonValue(2n ** 64n)).toBe("18446744073709551616");
    expect(toJsonValue("x")).toBe("x");
  });
});
