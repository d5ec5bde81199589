// anywidget entry of weave_nb.widgets.Board (built to weave_nb/static/board.js).
import { renderBoard } from "./view.js";

export default { render: renderBoard };
