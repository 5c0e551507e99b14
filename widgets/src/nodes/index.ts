// The one nodeTypes registry: the `ui.component` a node type declares (studio/graph/registry.py)
// names the component that draws it.
import type { NodeTypes } from "@xyflow/svelte";
import AssetNode from "./Asset/AssetNode.svelte";
import AudioNode from "./Audio/AudioNode.svelte";
import GenericNode from "./Generic/GenericNode.svelte";
import MotionSourceNode from "./MotionSource/MotionSourceNode.svelte";
import PipelineNode from "./Pipeline/PipelineNode.svelte";
import SceneGroupNode from "./SceneGroup/SceneGroupNode.svelte";
import ShotNode from "./Shot/ShotNode.svelte";
import SuperResolutionNode from "./SuperResolution/SuperResolutionNode.svelte";
import VideoRestorationNode from "./VideoRestoration/VideoRestorationNode.svelte";
import VSEAssemblerNode from "./VSEAssembler/VSEAssemblerNode.svelte";

export const nodeTypes: NodeTypes = {
  shot: ShotNode,
  asset: AssetNode,
  pipeline: PipelineNode,
  group: SceneGroupNode,
  motion: MotionSourceNode,
  audio: AudioNode,
  upscale: SuperResolutionNode,
  restore: VideoRestorationNode,
  assembler: VSEAssemblerNode,
  generic: GenericNode,
};
