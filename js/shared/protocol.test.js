import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { tableFromArrays, tableToIPC } from "@uwdata/flechette";
import {
  cutSize,
  decodeRows,
  MESSAGE_SHAPES,
  parseKernelMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  receiveKernelMessage,
  shapeMismatch,
  shapeOf,
  toJsonValue,
  toRowId,
  versionMismatch,
} from "./protocol.js";

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

// The examples both sides check (tests/test_protocol.py checks them against weave_nb/widgets/protocol/).
const fixture = JSON.parse(readFileSync(new URL("../../tests/fixtures/protocol_messages.json", import.meta.url), "utf-8"));
const byName = new Map(MESSAGE_SHAPES.map((shape) => [shape.name, shape]));
/** `n` stand-in buffers, as a message arrives with them. */
const buffers = (n) => Array.from({ length: n }, () => new DataView(new ArrayBuffer(8)));
const label = (example) => `${example.shape} ${JSON.stringify(example.content).slice(0, 60)}`;

describe("the protocol fixture", () => {
  it("speaks this version", () => {
    expect(fixture.protocol).toBe(PROTOCOL_VERSION);
  });

  it("has an example of every shape, and only of declared shapes", () => {
    expect(new Set(fixture.messages.map((e) => e.shape))).toEqual(new Set(byName.keys()));
  });

  it("uses every declared field of each shape, and no other", () => {
    for (const shape of MESSAGE_SHAPES) {
      const used = new Set(fixture.messages.filter((e) => e.shape === shape.name).flatMap((e) => Object.keys(e.content)));
      expect([...used].sort(), shape.name).toEqual(["type", ...Object.keys(shape.fields)].sort());
    }
  });

  it.each(fixture.messages.map((e) => [label(e), e]))("accepts %s", (_, example) => {
    const shape = byName.get(example.shape);
    expect(shapeMismatch(example.content, example.buffers, shape)).toBeNull();
    expect(shapeOf(example.content, example.buffers, shape.direction)).toBe(shape);
    if (shape.direction === "kernel_to_browser") {
      expect(parseKernelMessage(example.content, buffers(example.buffers))).toBe(example.content);
    }
  });

  it.each(fixture.refused.map((e) => [label(e), e]))("refuses %s naming its type and field", (_, example) => {
    const shape = byName.get(example.shape);
    const naming = example.field === "buffers" ? "buffers" : `field '${example.field}'`;
    expect(() => shapeOf(example.content, example.buffers, shape.direction)).toThrow(ProtocolError);
    expect(() => shapeOf(example.content, example.buffers, shape.direction)).toThrow(`'${shape.type}' message`);
    expect(() => shapeOf(example.content, example.buffers, shape.direction)).toThrow(naming);
    if (shape.direction === "kernel_to_browser") {
      expect(() => parseKernelMessage(example.content, buffers(example.buffers))).toThrow(naming);
    }
  });
});

describe("receiving kernel messages", () => {
  afterEach(() => vi.restoreAllMocks());

  it("ignores what is not the protocol's and reports what breaks it", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(receiveKernelMessage({ kind: "anywidget-command" }, [])).toBeNull();
    expect(receiveKernelMessage("text", [])).toBeNull();
    expect(error).not.toHaveBeenCalled();
    // A broken reply fails its request (its waiter gets an answer); a broken push is dropped.
    expect(receiveKernelMessage({ type: "rows", request: 1 }, buffers(1))).toEqual({
      type: "error",
      request: 1,
      message: "'rows' message: field 'offset' is missing",
    });
    expect(receiveKernelMessage({ type: "tick", total: "many" }, [])).toBeNull();
    expect(error).toHaveBeenCalledTimes(2);
  });

  it("sees a reply and its missing form apart by their fields and buffers", () => {
    const found = parseKernelMessage({ type: "cell", request: 1, column: "a" }, buffers(1));
    const missing = parseKernelMessage({ type: "cell", request: 1, column: "a", message: "row not found" }, []);
    expect(found && "message" in found).toBe(false);
    expect(missing && "message" in missing).toBe(true);
  });
});

describe("versionMismatch and toRowId", () => {
  it("says why a widget of another protocol version cannot draw", () => {
    expect(versionMismatch("chart", PROTOCOL_VERSION)).toBeNull();
    expect(versionMismatch("chart", PROTOCOL_VERSION + 1)).toContain(`chart protocol ${PROTOCOL_VERSION + 1}`);
    expect(versionMismatch("board", undefined)).toContain("reinstall weave_nb");
  });

  it("sends row ids as text or exact numbers", () => {
    expect(toRowId("r1")).toBe("r1");
    expect(toRowId(7n)).toBe(7);
    expect(toRowId(2n ** 64n)).toBe("18446744073709551616");
  });
});
