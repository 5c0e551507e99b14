// The anywidget entry point: mounts the canvas into the output cell and unmounts it on removal.
import "@xyflow/svelte/dist/style.css";
import type { AnyModel, Render } from "@anywidget/types";
import { mount, unmount } from "svelte";
import App from "./App.svelte";
import { CanvasModel, type WidgetState } from "./lib/model.svelte";

const render: Render<WidgetState> = ({ model, el }) => {
  const canvas = new CanvasModel(model as AnyModel<WidgetState>);
  const app = mount(App, { target: el, props: { canvas } });
  return () => {
    canvas.dispose();
    void unmount(app);
  };
};

export default { render };
