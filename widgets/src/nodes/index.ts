// The one nodeTypes registry: the `ui.component` a node type declares (studio/graph/registry.py)
// names the component that draws it. Keyed by the generated `Component`, so the compiler
// refuses a component the registry lacks or a registry component without an entry.
import type { NodeTypes } from "@xyflow/svelte";
import type { Component } from "../lib/nodeTypes";
import AssetNode from "./Asset/AssetNode.svelte";
import AudioNode from "./Audio/AudioNode.svelte";
import EDLNode from "./EDL/EDLNode.svelte";
import GenericNode from "./Generic/GenericNode.svelte";
import MotionSourceNode from "./MotionSource/MotionSourceNode.svelte";
import PipelineNode from "./Pipeline/PipelineNode.svelte";
import SceneGroupNode from "./SceneGroup/SceneGroupNode.svelte";
import ShotNode from "./Shot/ShotNode.svelte";
import SuperResolutionNode from "./SuperResolution/SuperResolutionNode.svelte";
import VideoRestorationNode from "./VideoRestoration/VideoRestorationNode.svelte";
import VSEAssemblerNode from "./VSEAssembler/VSEAssemblerNode.svelte";

const components: Record<Component, NodeTypes[string]> = {
  shot: ShotNode,
  asset: AssetNode,
  pipeline: PipelineNode,
  group: SceneGroupNode,
  motion: MotionSourceNode,
  audio: AudioNode,
  upscale: SuperResolutionNode,
  restore: VideoRestorationNode,
  assembler: VSEAssemblerNode,
  edl: EDLNode,
  generic: GenericNode,
};

export const nodeTypes: NodeTypes = components;
