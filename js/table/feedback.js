// Inline feedback controls of a row (👍/👎, label choices, a note) and what a
// click or an edit in them means: which annotation field gets which value.
import { h } from "../shared/dom.js";

/**
 * @typedef {import("../shared/protocol.js").Row} Row
 * @typedef {import("./columns.js").FeedbackConfig} FeedbackConfig
 * @typedef {{ field: string, value: string | null }} Annotation
 */

/** @type {[dir: "up" | "down", glyph: string, label: string][]} */
const THUMBS = [
  ["up", "👍", "thumbs up"],
  ["down", "👎", "thumbs down"],
];

/**
 * The feedback cell of `row`, showing its current values.
 * @param {Row} row
 * @param {FeedbackConfig} config
 * @returns {HTMLElement}
 */
export function feedbackCell(row, { thumbs, note, labels }) {
  /** @type {HTMLElement[]} */
  const controls = [];
  if (thumbs) {
    for (const [dir, glyph, label] of THUMBS) {
      controls.push(
        h(
          "button",
          {
            type: "button",
            class: "wnb-thumb",
            "data-feedback": dir,
            "aria-pressed": String(row[thumbs] === dir),
            "aria-label": label,
            title: label,
          },
          glyph,
        ),
      );
    }
  }
  for (const [field, choices] of Object.entries(labels)) {
    const select = h("select", { class: "wnb-label", "data-feedback": "label", "data-field": field, "aria-label": field }, [
      h("option", { value: "" }, `${field}…`),
      ...choices.map((c) => h("option", { value: c }, c)),
    ]);
    select.value = typeof row[field] === "string" ? /** @type {string} */ (row[field]) : "";
    controls.push(select);
  }
  if (note) {
    const input = h("input", { type: "text", class: "wnb-note", "data-feedback": "note", placeholder: "note", "aria-label": "note" });
    input.value = typeof row[note] === "string" ? /** @type {string} */ (row[note]) : "";
    controls.push(input);
  }
  return h("div", { class: "wnb-cell wnb-fb", role: "gridcell" }, controls);
}

/**
 * The annotation a click on `target` makes: 👍/👎 toggles the thumbs field.
 * @param {Element} target
 * @param {Row} row
 * @param {FeedbackConfig} config
 * @returns {Annotation | null}
 */
export function clickAnnotation(target, row, { thumbs }) {
  const dir = target.closest("[data-feedback]")?.getAttribute("data-feedback");
  if ((dir !== "up" && dir !== "down") || !thumbs) return null;
  return { field: thumbs, value: row[thumbs] === dir ? null : dir };
}

/**
 * The annotation a changed note or label box makes (empty clears the field).
 * @param {HTMLInputElement | HTMLSelectElement} target
 * @param {FeedbackConfig} config
 * @returns {Annotation | null}
 */
export function changeAnnotation(target, { note }) {
  const kind = target.getAttribute("data-feedback");
  const field = kind === "note" ? note : target.getAttribute("data-field");
  return field ? { field, value: target.value === "" ? null : target.value } : null;
}
