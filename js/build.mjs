// Bundles every front-end entry into weave_nb/static (run by `npm run build`,
// which hatch-jupyter-builder calls during `pip install`). Everything the
// browser needs is inlined: notebooks often run offline (DESIGN invariant 7).
import * as esbuild from "esbuild";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "weave_nb", "static");

/** Output name (what weave_nb/widgets/_bundle.py loads) -> source under js/. */
const entries = {
  table: "table/index.js",
  chart: "chart/index.js",
  board: "board/index.js",
  vega_runtime: "vega_runtime.js",
};

// pyproject's ensured-targets fails the install if an entry is missing; here a
// missing source only warns so one widget can be built while another is written.
const present = Object.entries(entries).filter(([name, file]) => {
  const found = existsSync(path.join(here, file));
  if (!found) console.warn(`build: skipping ${name}, js/${file} does not exist`);
  return found;
});

await esbuild.build({
  entryPoints: present.map(([name, file]) => ({ out: name, in: path.join(here, file) })),
  outdir,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  legalComments: "none",
  logLevel: "warning",
  // Styles are imported as text and added to the page by the views.
  loader: { ".css": "text" },
});
