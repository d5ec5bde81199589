// What a click on a mark tells the kernel.

/**
 * The fields of a clicked mark's datum that came from the kernel's rows.
 *
 * vega-lite adds derived fields (stack offsets, bin ends, internal ids) to
 * the data it draws; the kernel only knows the columns it sent, so those are
 * the only ones passed back. Returns null when nothing of the data was hit.
 * @param {unknown} datum
 * @param {readonly string[]} fields  column names of the rows sent by the kernel
 * @returns {Record<string, unknown> | null}
 */
export function pickDatum(datum, fields) {
  if (!datum || typeof datum !== "object") return null;
  const source = /** @type {Record<string, unknown>} */ (datum);
  /** @type {Record<string, unknown>} */
  const picked = {};
  let any = false;
  for (const field of fields) {
    if (Object.hasOwn(source, field)) {
      picked[field] = source[field];
      any = true;
    }
  }
  return any ? picked : null;
}

/**
 * Column names of the rows the kernel sent (the union of the rows' keys).
 * @param {readonly Record<string, unknown>[]} rows
 * @returns {string[]}
 */
export function rowFields(rows) {
  const fields = new Set();
  for (const row of rows) for (const key of Object.keys(row)) fields.add(key);
  return [...fields];
}
