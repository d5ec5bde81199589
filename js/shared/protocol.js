// The kernel <-> browser protocol of weave_nb widgets, browser side: every
// custom message of the table, chart and board widgets, typed and checked on
// arrival, and the decoding of the Arrow IPC windows rows travel in.
// The Python twin, which describes each message, is weave_nb/widgets/protocol/;
// both sides check the examples in tests/fixtures/protocol_messages.json.
// Change PROTOCOL_VERSION on both sides together.
import { tableFromIPC } from "@uwdata/flechette";

/** Version of the protocol; every widget's kernel side sends its own in the `protocol` trait. */
export const PROTOCOL_VERSION = 1;

/**
 * @typedef {Record<string, unknown>} Row  One decoded row, keyed by column name.
 * @typedef {[string, "asc" | "desc"]} SortKey
 * @typedef {{ offset: number, rows: Row[] }} Window  Consecutive rows starting at `offset`.
 * @typedef {string | number} RowId  A row's `_id` as it travels in JSON.
 * @typedef {"number" | "time" | "text" | "bool" | "image" | "nested" | "binary" | "other"} ColumnKind
 *   How a column is formatted, from its Arrow type (weave_nb/widgets/_arrow.py).
 * @typedef {{ name: string, kind: ColumnKind, type: string, role?: "error" }} ColumnInfo
 *   One column as the kernel describes it (`type` is the Arrow type as text); `role: "error"`
 *   marks the column whose set values mark failed rows (a monitor table's `exception`).
 */

// ---- synced traits the views read ---------------------------------------------------

/**
 * @typedef {{ thumbs: string | null, note: string | null, labels: Record<string, string[]> }} FeedbackConfig
 *   The table's feedback controls: the annotation field of each, null when not shown; labels map a field to its choices.
 * @typedef {{
 *   protocol: number,
 *   columns: ColumnInfo[],
 *   hidden_columns: string[],
 *   feedback: FeedbackConfig,
 *   sort: SortKey[],
 *   filter: string,
 *   follow: boolean,
 *   selected_id: RowId | null,
 *   height: number,
 * }} TableState  The table widget's traits (the view sets sort, filter, hidden_columns, follow, selected_id).
 * @typedef {{
 *   protocol: number,
 *   runtime: string,
 *   spec: Record<string, unknown>,
 *   data: Record<string, unknown>[],
 *   error: string,
 *   empty: string,
 * }} ChartState  The chart widget's traits; `runtime` references the shared vega runtime widget.
 * @typedef {{ label: string, value: string, tone: string }} StatInfo  One figure of a board's header.
 * @typedef {{
 *   protocol: number,
 *   title: string,
 *   stats: StatInfo[],
 *   panels: string[],
 *   table_widget: string | null,
 *   range: string,
 *   filter: string,
 *   filter_error: string,
 *   selection: string,
 * }} BoardState  The board widget's traits (the view sets range and filter); panels reference chart widgets.
 */

// ---- browser -> kernel ------------------------------------------------------------

/**
 * @typedef {{ type: "window", request: number, offset: number, limit: number, sort: SortKey[], filter: string | null }} WindowRequest
 *   Rows [offset, offset + limit) of the table sorted and filtered; a negative offset counts from the end.
 * @typedef {{ type: "annotate", row_id: RowId, field: string, value: string | null }} AnnotateRequest
 *   Feedback on a row; no reply unless the kernel refuses it.
 * @typedef {{ type: "image", request: number, row_id: RowId, column: string }} ImageRequest
 *   The full-size image of one cell.
 * @typedef {{ type: "cell", request: number, row_id: RowId, column: string }} CellRequest
 *   The whole value of a cell that windows carry cut short.
 * @typedef {{ type: "trace", request: number, row_id: RowId, offset: number, limit: number }} TraceOfRowRequest
 *   A window of the outline of the trace a row belongs to.
 * @typedef {{ type: "trace", request: number, trace_id: string, offset: number, limit: number }} TraceWindowRequest
 *   A further window of the outline of a trace already open.
 * @typedef {{ type: "span", request: number, row_id: RowId }} SpanRequest
 *   One span's whole row, for the trace view's details.
 * @typedef {{ type: "select", datum: Record<string, unknown> | null }} SelectMessage
 *   A click on a chart's mark: the fields of its row as the kernel sent them, or null.
 * @typedef {{ type: "clear_selection" }} ClearSelectionMessage
 *   The ✕ next to a board's chart selection.
 * @typedef {WindowRequest | AnnotateRequest | ImageRequest | CellRequest | TraceOfRowRequest | TraceWindowRequest | SpanRequest} TableRequest
 * @typedef {TableRequest | SelectMessage | ClearSelectionMessage} BrowserMessage
 */

// ---- kernel -> browser ------------------------------------------------------------

/**
 * @typedef {{ type: "rows", request: number, offset: number, total: number, matched: number, version: number }} RowsReply
 *   Reply to `window` + one Arrow IPC window of rows from `offset`.
 * @typedef {{ sort: SortKey[], filter: string }} TickQuery
 *   The sort and filter a tick's `matched` count and tail rows are for.
 * @typedef {{ type: "tick", total: number, version: number, matched: number | null, query: TickQuery }} Tick
 *   The table changed; `matched` is null when not counted.
 * @typedef {{ type: "tick", total: number, version: number, matched: number, query: TickQuery, offset: number }} TailTick
 *   A tick + an Arrow IPC window of the newest rows from `offset`, while the view follows the tail.
 * @typedef {{ type: "image", request: number, column: string, width: number, height: number }} ImageReply
 *   Reply to `image` + the PNG.
 * @typedef {{ type: "image", request: number, column: string, message: string }} ImageMissing
 * @typedef {{ type: "cell", request: number, column: string }} CellReply
 *   Reply to `cell` + a one-row Arrow IPC table holding the whole cell.
 * @typedef {{ type: "cell", request: number, column: string, message: string }} CellMissing
 * @typedef {{ type: "trace", request: number, trace_id: string, offset: number, total: number, total_ms: number, version: number, index: number | null }} TraceReply
 *   Reply to `trace` + an Arrow IPC window of the outline: `_id, parent_id, name, status, depth,
 *   failed, offset_ms, duration_ms` in tree order (`failed` is true where the status is the
 *   monitor's error); `index` is the asked row's place in it.
 * @typedef {{ type: "trace", request: number, message: string }} TraceMissing
 * @typedef {{ type: "span", request: number, columns: ColumnInfo[] }} SpanReply
 *   Reply to `span` + a one-row Arrow IPC table.
 * @typedef {{ type: "span", request: number, message: string }} SpanMissing
 * @typedef {{ type: "error", request: number | null, message: string }} ErrorReply
 *   A request failed; `request` is null for refused feedback.
 * @typedef {RowsReply | Tick | TailTick | ImageReply | ImageMissing | CellReply | CellMissing | TraceReply | TraceMissing | SpanReply | SpanMissing | ErrorReply} KernelMessage
 */

/**
 * What the table's views ask and wait for (image, cell, trace and span
 * requests), before the request id is added, and what answers each.
 * @typedef {ImageRequest | CellRequest | TraceOfRowRequest | TraceWindowRequest | SpanRequest} AskRequest
 * @typedef {AskRequest extends infer R ? R extends AskRequest ? Omit<R, "request"> : never : never} Question
 * @typedef {{ image: ImageReply | ImageMissing, cell: CellReply | CellMissing, trace: TraceReply | TraceMissing, span: SpanReply | SpanMissing }} Answers
 */
/**
 * The reply to a question of type `K` (or the error it failed with) and its buffers.
 * @template {keyof Answers} K
 * @typedef {{ msg: Answers[K] | ErrorReply, buffers: DataView[] }} Answer
 */

// ---- checking what arrives ----------------------------------------------------------

/** A message that does not have the fields its type declares. */
export class ProtocolError extends Error {
  name = "ProtocolError";
}

/**
 * @typedef {{ expected: string, test: (value: unknown) => boolean }} Check
 * @typedef {"table" | "chart" | "board"} WidgetName
 * @typedef {"browser_to_kernel" | "kernel_to_browser"} Direction
 * @typedef {object} MessageShape  One shape a message takes (the Python twin's TypedDict of the same name).
 * @property {string} name
 * @property {string} type  the value of its `type` field
 * @property {WidgetName} widget
 * @property {Direction} direction
 * @property {number} buffers  how many binary buffers travel with it
 * @property {Record<string, Check>} fields  every field but `type`; extra fields are ignored
 */

/** @param {string} expected @param {(value: unknown) => boolean} test @returns {Check} */
const check = (expected, test) => ({ expected, test });
/** @param {unknown} value @returns {value is Record<string, unknown>} */
const isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const integer = check("an integer", (v) => Number.isInteger(v));
const number = check("a number", (v) => typeof v === "number" && Number.isFinite(v));
const text = check("text", (v) => typeof v === "string");
const rowId = check("text or an integer", (v) => typeof v === "string" || Number.isInteger(v));
/** @param {Check} inner */
const orNull = (inner) => check(`${inner.expected} or null`, (v) => v === null || inner.test(v));
/** @param {Check} inner */
const listOf = (inner) => check(`a list of ${inner.expected}`, (v) => Array.isArray(v) && v.every(inner.test));
const sortKey = check(`[text, "asc" or "desc"]`, (v) => Array.isArray(v) && v.length === 2 && text.test(v[0]) && (v[1] === "asc" || v[1] === "desc"));
/** @type {readonly ColumnKind[]} */
const COLUMN_KINDS = ["number", "time", "text", "bool", "image", "nested", "binary", "other"];
const columnInfo = check(
  'a column {name, kind, type, role?: "error"}',
  (v) =>
    isRecord(v) &&
    text.test(v.name) &&
    COLUMN_KINDS.some((kind) => kind === v.kind) &&
    text.test(v.type) &&
    (!("role" in v) || v.role === "error"),
);
const tickQuery = check("a query {sort, filter}", (v) => isRecord(v) && listOf(sortKey).test(v.sort) && text.test(v.filter));

/**
 * @param {string} name @param {string} type @param {WidgetName} widget @param {Direction} direction
 * @param {number} buffers @param {Record<string, Check>} fields
 * @returns {MessageShape}
 */
const shape = (name, type, widget, direction, buffers, fields) => ({ name, type, widget, direction, buffers, fields });
const IN = "browser_to_kernel";
const OUT = "kernel_to_browser";
const tickFields = { total: integer, version: integer, query: tickQuery };

/** Every shape of every message, in both directions. @type {readonly MessageShape[]} */
export const MESSAGE_SHAPES = [
  shape("WindowRequest", "window", "table", IN, 0, {
    request: integer, offset: integer, limit: integer, sort: listOf(sortKey), filter: orNull(text),
  }),
  shape("AnnotateRequest", "annotate", "table", IN, 0, { row_id: rowId, field: text, value: orNull(text) }),
  shape("ImageRequest", "image", "table", IN, 0, { request: integer, row_id: rowId, column: text }),
  shape("CellRequest", "cell", "table", IN, 0, { request: integer, row_id: rowId, column: text }),
  shape("TraceOfRowRequest", "trace", "table", IN, 0, { request: integer, row_id: rowId, offset: integer, limit: integer }),
  shape("TraceWindowRequest", "trace", "table", IN, 0, { request: integer, trace_id: text, offset: integer, limit: integer }),
  shape("SpanRequest", "span", "table", IN, 0, { request: integer, row_id: rowId }),
  shape("SelectMessage", "select", "chart", IN, 0, { datum: check("an object or null", (v) => v === null || isRecord(v)) }),
  shape("ClearSelectionMessage", "clear_selection", "board", IN, 0, {}),
  shape("RowsReply", "rows", "table", OUT, 1, {
    request: integer, offset: integer, total: integer, matched: integer, version: integer,
  }),
  shape("Tick", "tick", "table", OUT, 0, { ...tickFields, matched: orNull(integer) }),
  shape("TailTick", "tick", "table", OUT, 1, { ...tickFields, matched: integer, offset: integer }),
  shape("ImageReply", "image", "table", OUT, 1, { request: integer, column: text, width: integer, height: integer }),
  shape("ImageMissing", "image", "table", OUT, 0, { request: integer, column: text, message: text }),
  shape("CellReply", "cell", "table", OUT, 1, { request: integer, column: text }),
  shape("CellMissing", "cell", "table", OUT, 0, { request: integer, column: text, message: text }),
  shape("TraceReply", "trace", "table", OUT, 1, {
    request: integer, trace_id: text, offset: integer, total: integer, total_ms: number, version: integer, index: orNull(integer),
  }),
  shape("TraceMissing", "trace", "table", OUT, 0, { request: integer, message: text }),
  shape("SpanReply", "span", "table", OUT, 1, { request: integer, columns: listOf(columnInfo) }),
  shape("SpanMissing", "span", "table", OUT, 0, { request: integer, message: text }),
  shape("ErrorReply", "error", "table", OUT, 0, { request: orNull(integer), message: text }),
];

/**
 * Why `content` with `buffers` buffers is not a message of `shape`, or null when it is.
 * @param {Record<string, unknown>} content @param {number} buffers @param {MessageShape} shape
 * @returns {string | null}
 */
export function shapeMismatch(content, buffers, shape) {
  const kind = `'${shape.type}' message`;
  for (const [field, { expected, test }] of Object.entries(shape.fields)) {
    if (!(field in content)) return `${kind}: field '${field}' is missing`;
    if (!test(content[field])) return `${kind}: field '${field}' must be ${expected}, got ${JSON.stringify(content[field])}`;
  }
  if (buffers !== shape.buffers) return `${kind}: ${buffers} buffers where ${shape.name} carries ${shape.buffers}`;
  return null;
}

/**
 * The shape of a message sent in `direction`, or null when its `type` is not
 * one of the protocol's (anywidget's own commands may share the comm).
 * Throws a {@link ProtocolError} naming the type and the field at fault when
 * the message has the type but not the fields.
 * @param {unknown} content @param {number} buffers @param {Direction} direction
 * @returns {MessageShape | null}
 */
export function shapeOf(content, buffers, direction) {
  if (!isRecord(content)) return null;
  const candidates = MESSAGE_SHAPES.filter((s) => s.direction === direction && s.type === content.type);
  if (!candidates.length) return null;
  const problems = [];
  for (const candidate of candidates) {
    const problem = shapeMismatch(content, buffers, candidate);
    if (problem === null) return candidate;
    problems.push(problem);
  }
  // Of several shapes (a reply or its "missing" form), report the one the message came nearest to.
  throw new ProtocolError(problems.find((p) => !p.endsWith("is missing")) ?? problems[0]);
}

/**
 * `content` as a kernel message; null when it is none of the protocol's types.
 * A message of a protocol type with wrong fields throws a {@link ProtocolError}.
 * @param {unknown} content @param {readonly DataView[]} buffers
 * @returns {KernelMessage | null}
 */
export function parseKernelMessage(content, buffers) {
  return shapeOf(content, buffers.length, OUT) === null ? null : /** @type {KernelMessage} */ (content);
}

/**
 * What a view does with a custom message from the kernel: the message when
 * it is the protocol's, null when it is none of its types. A message that
 * breaks the protocol (a bug on one side) is reported on the console; when it
 * answers a request it becomes an error of that request, so that nobody waits
 * for an answer forever, else it is dropped.
 * @param {unknown} content @param {readonly DataView[]} buffers
 * @returns {KernelMessage | null}
 */
export function receiveKernelMessage(content, buffers) {
  try {
    return parseKernelMessage(content, buffers);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    console.error(`weave_nb: a message from the kernel breaks the protocol: ${error.message}`);
    const request = isRecord(content) ? content.request : undefined;
    return typeof request === "number" && Number.isInteger(request)
      ? { type: "error", request, message: error.message }
      : null;
  }
}

/**
 * Send `message` to the widget's kernel side.
 * @param {{ send(content: BrowserMessage): void }} model
 * @param {BrowserMessage} message
 */
export function sendMessage(model, message) {
  model.send(message);
}

/**
 * Why a widget cannot draw: the kernel speaks another protocol version (a
 * stale front-end after an upgrade), or null when the versions agree.
 * @param {string} widget @param {unknown} kernelVersion  the model's `protocol` trait
 * @returns {string | null}
 */
export function versionMismatch(widget, kernelVersion) {
  if (kernelVersion === PROTOCOL_VERSION) return null;
  return (
    `weave_nb: the kernel speaks ${widget} protocol ${String(kernelVersion)} but this front-end ` +
    `speaks ${PROTOCOL_VERSION}; reinstall weave_nb and restart the kernel.`
  );
}

/**
 * A row's `_id` as it travels in a message: a BigInt becomes a number when
 * exact, else its decimal text.
 * @param {unknown} id
 * @returns {RowId}
 */
export function toRowId(id) {
  const value = toJsonValue(id);
  return typeof value === "number" || typeof value === "string" ? value : String(value);
}

/** Window metadata key listing the cells the kernel cut short (weave_nb/widgets/_cells.py). */
const TRUNCATED_KEY = "weave_nb.truncated";

/** Cut cells of each decoded row: column name -> full size (null for nested values). */
/** @type {WeakMap<Row, Record<string, number | null>>} */
const cutCells = new WeakMap();

/**
 * Decode one Arrow IPC stream (a message buffer) into plain row objects.
 *
 * 64-bit integers stay BigInt so large ids and counters are shown exactly;
 * timestamps become epoch milliseconds. Cells the kernel cut short are
 * remembered for {@link cutSize}.
 * @param {DataView | ArrayBuffer | Uint8Array} buffer
 * @returns {Row[]}
 */
export function decodeRows(buffer) {
  const bytes =
    buffer instanceof Uint8Array
      ? buffer
      : buffer instanceof ArrayBuffer
        ? new Uint8Array(buffer)
        : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const table = tableFromIPC(bytes, { useBigInt: true });
  const rows = /** @type {Row[]} */ (table.toArray());
  const marks = table.schema.metadata?.get(TRUNCATED_KEY);
  if (marks) {
    /** @type {Record<string, Record<string, number | null>>} */
    const byColumn = JSON.parse(marks);
    for (const [column, sizes] of Object.entries(byColumn)) {
      for (const [index, size] of Object.entries(sizes)) {
        const row = rows[Number(index)];
        if (!row) continue;
        const cut = cutCells.get(row) ?? {};
        cut[column] = size;
        cutCells.set(row, cut);
      }
    }
  }
  return rows;
}

/**
 * How the kernel cut `row[column]`: its full size (characters of text, bytes of
 * binary), `null` for a nested value, `undefined` when the cell arrived whole.
 * @param {Row} row
 * @param {string} column
 * @returns {number | null | undefined}
 */
export function cutSize(row, column) {
  const cut = cutCells.get(row);
  return cut && column in cut ? cut[column] : undefined;
}

/**
 * A value as it may travel in a JSON message: BigInt becomes a number when it
 * is exactly representable, else its decimal string.
 * @param {unknown} value
 * @returns {unknown}
 */
export function toJsonValue(value) {
  if (typeof value !== "bigint") return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}
