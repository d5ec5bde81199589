// anywidget entry of weave_nb.widgets.TableWidget.
import { renderTable } from "./view.js";

/** @type {import("@anywidget/types").AnyWidget<import("./view.js").TableState>} */
export default {
  render({ model, el, signal }) {
    renderTable({ model, el, signal });
  },
};

export { renderTable };
