import { describe, expect, it } from "vitest";
import { formatCell, formatNumber, formatTimestamp, isErrorRow, PREVIEW_CHARS, toJson, truncate } from "./format.js";

describe("formatNumber", () => {
  it("groups integers and keeps BigInt exact", () => {
    expect(formatNumber(1234567)).toBe((1234567).toLocaleString());
    expect(formatNumber(9007199254740993n)).toBe((9007199254740993n).toLocaleString());
  });
  it("rounds decimals to 6 significant digits", () => {
    expect(formatNumber(1.23456789)).toBe((1.23457).toLocaleString(undefined, { maximumSignificantDigits: 6 }));
  });
  it("uses scientific notation at extreme magnitudes", () => {
    expect(formatNumber(0.0000123)).toBe("1.230e-5");
    expect(formatNumber(1.5e20)).toBe("1.500e+20");
  });
  it("names non-finite values", () => {
    expect(formatNumber(Number.NaN)).toBe("NaN");
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe("∞");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("-∞");
  });
});

describe("formatTimestamp", () => {
  it("shows local wall-clock time with milliseconds when present", () => {
    expect(formatTimestamp(new Date(2024, 0, 2, 3, 4, 5, 6).getTime())).toBe("2024-01-02 03:04:05.006");
    expect(formatTimestamp(new Date(2024, 11, 31, 23, 59, 59).getTime())).toBe("2024-12-31 23:59:59");
  });
});

describe("truncate", () => {
  it("keeps short single-line text", () => {
    expect(truncate("hello")).toEqual({ text: "hello", truncated: false });
  });
  it("cuts long text and multi-line text with an ellipsis", () => {
    const long = "x".repeat(PREVIEW_CHARS + 10);
    expect(truncate(long)).toEqual({ text: `${"x".repeat(PREVIEW_CHARS)}…`, truncated: true });
    expect(truncate("first\nsecond")).toEqual({ text: "first…", truncated: true });
  });
});

describe("formatCell", () => {
  it("shows null and booleans as symbols", () => {
    expect(formatCell(null, "text")).toMatchObject({ text: "null", cls: "null" });
    expect(formatCell(undefined, "number")).toMatchObject({ text: "null", cls: "null" });
    expect(formatCell(true, "bool")).toMatchObject({ text: "✓", cls: "bool" });
    expect(formatCell(false, "bool")).toMatchObject({ text: "✗", cls: "bool" });
  });
  it("right-aligns numbers (num class) with the raw value on hover", () => {
    expect(formatCell(1500, "number")).toEqual({ text: formatNumber(1500), cls: "num", title: "1500" });
  });
  it("formats timestamps with the UTC ISO string on hover", () => {
    const ms = Date.UTC(2024, 5, 1, 12, 0, 0);
    expect(formatCell(ms, "time")).toEqual({ text: formatTimestamp(ms), cls: "time", title: "2024-06-01T12:00:00.000Z" });
  });
  it("gives long text a preview, a tooltip and an expandable full value", () => {
    const long = "y".repeat(500);
    const view = formatCell(long, "text");
    expect(view.text.length).toBe(PREVIEW_CHARS + 1);
    expect(view.title).toBe(long);
    expect(view.full).toBe(long);
  });
  it("keeps markup as plain text", () => {
    const xss = "<img src=x onerror=alert(1)>";
    expect(formatCell(xss, "text")).toEqual({ text: xss, cls: "text" });
  });
  it("renders nested values as compact JSON expanding to indented JSON", () => {
    const value = { a: 1n, b: [1, 2], c: { d: "e" } };
    const view = formatCell(value, "nested");
    expect(view).toMatchObject({ text: '{"a":1,"b":[1,2],"c":{"d":"e"}}', cls: "json" });
    expect(view.full).toBe(JSON.stringify({ a: 1, b: [1, 2], c: { d: "e" } }, null, 2));
  });
  it("marks cells the kernel cut short so expanding asks for the whole value", () => {
    const cut = formatCell("z".repeat(2000), "text", 1_000_000);
    expect(cut).toMatchObject({ cls: "text", partial: true });
    expect(cut.text).toBe(`${"z".repeat(PREVIEW_CHARS)}…`);
    expect(cut.full).toBeUndefined();
    expect(cut.title).toContain(`of ${formatNumber(1_000_000)} characters`);
    expect(formatCell({ a: "b" }, "nested", null)).toMatchObject({ cls: "json", partial: true });
    expect(formatCell(new Uint8Array(2000), "binary", 123456).text).toBe(`<${formatNumber(123456)} bytes>`);
    // A short value cut at a line break is still marked cut.
    expect(formatCell("line\nmore", "text", 5000)).toMatchObject({ text: "line…", partial: true });
    expect(formatCell("whole", "text").partial).toBeUndefined();
  });
  it("shows a recorded exception as its type and message, the traceback on expand", () => {
    const exception = { type: "ValueError", message: "bad input", traceback: "Traceback (most recent call last):\n  ..." };
    const view = formatCell(exception, "nested");
    expect(view).toMatchObject({ text: "ValueError: bad input", cls: "exc", title: "ValueError: bad input" });
    expect(view.full).toBe(`ValueError: bad input\n\n${exception.traceback}`);
    expect(formatCell({ type: "KeyError", message: "" }, "nested").text).toBe("KeyError");
    const python = { ...exception, traceback: `${exception.traceback}\nValueError: bad input\n` };
    expect(formatCell(python, "nested").full).toBe(python.traceback.trimEnd());
    expect(formatCell({ type: "x", count: 1 }, "nested").cls).toBe("json");
  });
  it("summarises binary values and images without dumping bytes", () => {
    expect(formatCell(new Uint8Array(3), "binary")).toEqual({ text: "<3 bytes>", cls: "bin" });
    expect(formatCell({ png: new Uint8Array(2), width: 4, height: 5 }, "image").text).toBe("image 4×5");
  });
});

describe("toJson", () => {
  it("writes typed arrays (Arrow lists) as JSON arrays", () => {
    expect(toJson({ a: new BigInt64Array([1n, 2n]), b: new Float64Array([0.5]) })).toBe('{"a":[1,2],"b":[0.5]}');
  });
  it("writes unsafe BigInt as a string and byte arrays as a size", () => {
    expect(toJson({ big: 2n ** 60n, bytes: new Uint8Array(4) })).toBe(
      `{"big":"${(2n ** 60n).toString()}","bytes":"<4 bytes>"}`,
    );
  });
});

describe("isErrorRow", () => {
  it("flags rows with an error value or an error status", () => {
    expect(isErrorRow({ error: "ValueError: boom" })).toBe(true);
    expect(isErrorRow({ exception: { type: "KeyError" } })).toBe(true);
    expect(isErrorRow({ status: "ERROR" })).toBe(true);
  });
  it("judges by the column the kernel marks, when it marks one", () => {
    const columns = [{ name: "exception", role: "error" }, { name: "status" }];
    expect(isErrorRow({ exception: { type: "KeyError" }, status: "success" }, columns)).toBe(true);
    expect(isErrorRow({ exception: null, status: "failed" }, columns)).toBe(false);
    expect(isErrorRow({ exception: null, error: "boom" }, columns)).toBe(false);
  });
  it("does not flag healthy rows", () => {
    expect(isErrorRow({ error: null, status: "ok" })).toBe(false);
    expect(isErrorRow({ error: "" })).toBe(false);
    expect(isErrorRow({ latency_ms: 3 })).toBe(false);
  });
});
