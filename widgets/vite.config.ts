import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

// A library build: one ES module (the anywidget `_esm`) plus one CSS file (`_css`), everything
// bundled, written into the Python package.
export default defineConfig({
  plugins: [svelte()],
  // Library mode leaves `process.env.NODE_ENV` in dependencies; there is no `process` in a page.
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "../studio/widgets/static",
    emptyOutDir: true,
    target: "es2022",
    lib: {
      entry: "src/index.ts",
      formats: ["es"],
      fileName: () => "canvas.js",
      cssFileName: "canvas",
    },
  },
});
