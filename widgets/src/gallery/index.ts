// The gallery's anywidget entry point: mounts a sweep's gallery into the output cell and
// unmounts it on removal (a second bundle beside the canvas's: studio/widgets/static/gallery.js).
import type { AnyModel, Render } from "@anywidget/types";
import { mount, unmount } from "svelte";
import Gallery from "./Gallery.svelte";
import { GalleryModel, type GalleryState } from "./model.svelte";

const render: Render<GalleryState> = ({ model, el }) => {
  const gallery = new GalleryModel(model as AnyModel<GalleryState>);
  const app = mount(Gallery, { target: el, props: { gallery } });
  return () => {
    gallery.dispose();
    void unmount(app);
  };
};

export default { render };
