// esbuild bundles `import css from "./x.css"` as the file's text (js/build.mjs).
declare module "*.css" {
  const css: string;
  export default css;
}
