import { getContext } from "svelte";
import type { CanvasModel } from "../../lib/model.svelte";

/** The canvas model, provided by App.svelte. */
export function useCanvas(): CanvasModel {
  return getContext<CanvasModel>("studio");
}
