// anywidget entry of weave_nb.widgets.Chart (built to weave_nb/static/chart.js).
// It is small on purpose: the vega runtime comes from the shared runtime
// widget (js/vega_runtime.js), not from this bundle.
import { renderChart } from "./view.js";

export default { render: renderChart };
