// Pure cell formatting: value + column kind -> what a cell shows.
// No DOM here so the rules are unit-tested under vitest.

/** @typedef {import("../shared/protocol.js").ColumnKind} ColumnKind */

/**
 * What a cell displays.
 * @typedef {object} CellView
 * @property {string} text   Short text shown in the cell (already truncated).
 * @property {string} cls    CSS modifier class: "num", "null", "bool", "time", "text", "json", "bin".
 * @property {string} [title] Tooltip: the full value when the cell shows a shortened form.
 * @property {string} [full]  The full value to show when the user expands the cell.
 * @property {boolean} [partial]  The kernel sent the value cut short: expanding asks it for the whole value.
 */

/**
 * How the kernel cut a cell (see weave_nb/widgets/_cells.py): its full size in
 * characters (text) or bytes (binary), `null` for a nested value; `undefined`
 * when the cell arrived whole.
 * @typedef {number | null | undefined} Cut
 */

/** Longest text shown inside a cell; the rest is available on hover/expand. */
export const PREVIEW_CHARS = 120;

const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 6 });

/**
 * Format a number for display: grouped integers, 6 significant digits for
 * decimals, scientific notation for very small or very large magnitudes.
 * @param {number | bigint} value
 * @returns {string}
 */
export function formatNumber(value) {
  if (typeof value === "bigint") return integerFormat.format(value);
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return integerFormat.format(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e15)) return value.toExponential(3);
  return decimalFormat.format(value);
}

/** @param {number} n @param {number} [width] */
const pad = (n, width = 2) => String(n).padStart(width, "0");

/**
 * Format epoch milliseconds as local time `YYYY-MM-DD HH:MM:SS.mmm`
 * (milliseconds omitted when zero).
 * @param {number} ms
 * @returns {string}
 */
export function formatTimestamp(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const millis = d.getMilliseconds();
  return `${date} ${time}${millis ? `.${pad(millis, 3)}` : ""}`;
}

/**
 * JSON for nested values: BigInt as numbers/strings, byte arrays as a size note.
 * @param {unknown} value
 * @param {number} [indent]  0 for the compact one-line form.
 * @returns {string}
 */
export function toJson(value, indent = 0) {
  return JSON.stringify(
    value,
    (_key, v) => {
      if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
      // Arrow lists of numbers decode to typed arrays, which JSON writes as objects.
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(/** @type {any} */ (v));
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    },
    indent || undefined,
  );
}

/**
 * Shorten `text` to PREVIEW_CHARS and to its first line.
 * @param {string} text
 * @returns {{ text: string, truncated: boolean }}
 */
export function truncate(text) {
  const newline = text.indexOf("\n");
  const cut = Math.min(newline === -1 ? text.length : newline, PREVIEW_CHARS);
  if (cut >= text.length) return { text, truncated: false };
  return { text: `${text.slice(0, cut)}…`, truncated: true };
}

/**
 * Decide what a cell of `kind` shows for `value`.
 * Image cells are rendered by the view (they need the thumbnail bytes); here
 * they only get a textual fallback.
 * @param {unknown} value
 * @param {ColumnKind} kind
 * @param {Cut} [cut]  set when the kernel sent `value` cut short.
 * @returns {CellView}
 */
export function formatCell(value, kind, cut) {
  if (value === null || value === undefined) return { text: "null", cls: "null" };
  if (typeof value === "boolean") return { text: value ? "✓" : "✗", cls: "bool", title: String(value) };
  if (kind === "number" && (typeof value === "number" || typeof value === "bigint")) {
    return { text: formatNumber(value), cls: "num", title: String(value) };
  }
  if (kind === "time" && typeof value === "number") {
    const iso = Number.isFinite(value) ? new Date(value).toISOString() : String(value);
    return { text: formatTimestamp(value), cls: "time", title: iso };
  }
  if (value instanceof Uint8Array) {
    return { text: `<${formatNumber(typeof cut === "number" ? cut : value.byteLength)} bytes>`, cls: "bin" };
  }
  if (kind === "image") {
    const { width, height } = /** @type {{width?: number, height?: number}} */ (value);
    return { text: `image ${width}×${height}`, cls: "bin" };
  }
  // Only a cut cell carries `partial`, so whole cells compare equal to plain views.
  const partial = cut !== undefined ? true : undefined;
  const exception = typeof value === "object" ? describeException(value) : null;
  if (exception) {
    const short = truncate(exception.summary);
    return { text: short.text, cls: "exc", title: exception.summary, full: exception.full, partial };
  }
  if (typeof value === "object") {
    const compact = toJson(value);
    const short = truncate(compact);
    const title = partial ? `${compact}… (cut short, click for the whole value)` : compact;
    return { text: short.text, cls: "json", title, full: toJson(value, 2), partial };
  }
  const text = typeof value === "string" ? value : String(value);
  if (partial) {
    const size = typeof cut === "number" ? ` of ${formatNumber(cut)} characters` : "";
    const title = `${text}… (first ${formatNumber(text.length)}${size}, click for all)`;
    return { text: `${truncate(text).text.replace(/…$/, "")}…`, cls: "text", title, partial };
  }
  const short = truncate(text);
  return short.truncated
    ? { text: short.text, cls: "text", title: text, full: text }
    : { text, cls: typeof value === "number" || typeof value === "bigint" ? "num" : "text" };
}

/**
 * A recorded exception (an object with string `type` and `message`, as
 * weave_nb.monitor stores it) as a one-line summary and its full text with the
 * traceback; `null` for any other value.
 * @param {object} value
 * @returns {{ summary: string, full: string } | null}
 */
export function describeException(value) {
  const { type, message, traceback } = /** @type {Record<string, unknown>} */ (value);
  if (typeof type !== "string" || typeof message !== "string") return null;
  const summary = message ? `${type}: ${message}` : type;
  if (typeof traceback !== "string" || !traceback) return { summary, full: summary };
  // Python's traceback already ends with the summary line; only prepend it when missing.
  const full = traceback.trimEnd().endsWith(summary) ? traceback.trimEnd() : `${summary}\n\n${traceback}`;
  return { summary, full };
}

// Tables the kernel marks no error column in (rows logged by hand, with their own
// conventions) are judged by these common names; a monitor table's error column
// comes from the kernel (`role: "error"`), never from a name written here.
/** Column names whose non-empty value marks a row as failed. */
const ERROR_COLUMNS = ["error", "exception", "_error", "_exception", "traceback"];
/** Column names whose value, when it is one of ERROR_STATUSES, marks a row as failed. */
const STATUS_COLUMNS = ["status", "level", "_status"];
const ERROR_STATUSES = new Set(["error", "failed", "failure", "exception", "critical"]);

/** @param {unknown} v */
const isSet = (v) => v !== null && v !== undefined && v !== "" && v !== false;

/**
 * Whether a row records an error: a value in a column the kernel gave
 * `role: "error"`; without such a column, a non-empty error/exception column,
 * or a status/level column saying so.
 * @param {Record<string, unknown>} row
 * @param {ReadonlyArray<{ name: string, role?: string }>} [columns]  the kernel's column descriptions.
 * @returns {boolean}
 */
export function isErrorRow(row, columns = []) {
  const marked = columns.filter((c) => c.role === "error");
  if (marked.length) return marked.some((c) => isSet(row[c.name]));
  for (const name of ERROR_COLUMNS) {
    if (isSet(row[name])) return true;
  }
  for (const name of STATUS_COLUMNS) {
    const v = row[name];
    if (typeof v === "string" && ERROR_STATUSES.has(v.toLowerCase())) return true;
  }
  return false;
}
