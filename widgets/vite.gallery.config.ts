import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

// The sweep gallery: a second library build beside the canvas's (vite.config.ts, which runs
// first and empties the folder), one ES module and one CSS file of its own.
export default defineConfig({
  plugins: [svelte()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "../studio/widgets/static",
    emptyOutDir: false,
    target: "es2022",
    lib: {
      entry: "src/gallery/index.ts",
      formats: ["es"],
      fileName: () => "gallery.js",
      cssFileName: "gallery",
    },
  },
});
