"""Graphs and media facts for the assembly tests (no files: the pure part's inputs)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from studio.assembly.model import Media, Sequence, SequenceInputs
from studio.assembly.sequence import compile_sequence
from studio.graph.graph import Graph


def video(path: str, *, frames: int = 96, fps: Fraction | int = 24, audio: bool = False) -> Media:
    fps = Fraction(fps)
    return Media(
        path=path,
        kind="video",
        frames=frames,
        fps=fps,
        duration=Fraction(frames) / fps,
        has_audio=audio,
    )


def still(path: str) -> Media:
    return Media(path=path, kind="image", width=64, height=36)


def sound(path: str, seconds: int | Fraction = 30) -> Media:
    return Media(path=path, kind="audio", duration=Fraction(seconds), has_audio=True)


def take_path(scene: int, shot: int, take: int = 1, ext: str = "mp4", version: int = 1) -> str:
    return (
        f"03_Renders/SCENE_{scene:02d}/SHOT_{shot:03d}/"
        f"SHOT-{shot:03d}_v{version:02d}_take{take:02d}.{ext}"
    )


class Film:
    """A graph with an Assembler and the media the resolver would have found."""

    def __init__(self, **assembler_fields: Any) -> None:
        self.graph = Graph()
        self.assembler = self.graph.add_node("VSEAssembler", id="asm", **assembler_fields).id
        self.media: dict[str, Media] = {}
        self.problems: dict[str, str] = {}
        self.edls: dict[str, str] = {}
        self.edl_media: dict[str, Media] = {}
        self.aspect_ratio = "16:9"

    def shot(
        self,
        node_id: str,
        *,
        scene: int = 1,
        shot: int = 10,
        media: Media | None = None,
        connect: bool = True,
        parent: str | None = None,
    ) -> str:
        self.graph.add_node("Shot", id=node_id, scene=scene, shot=shot, parent_id=parent)
        self.media[node_id] = media if media is not None else video(take_path(scene, shot))
        if connect:
            self.graph.connect(node_id, "output", self.assembler, "clips")
        return node_id

    def post(self, node_id: str, type_name: str, upstream: str, *, connect: bool = True) -> str:
        self.graph.add_node(type_name, id=node_id)
        self.graph.connect(upstream, "output", node_id, "input")
        if connect:
            self.graph.connect(node_id, "output", self.assembler, "clips")
        return node_id

    def music(self, node_id: str, media: Media | None = None, **settings: Any) -> str:
        self.graph.add_node("Audio", id=node_id, file=f"01_Assets/Source_Media/{node_id}.wav")
        self.media[node_id] = media or sound(f"01_Assets/Source_Media/{node_id}.wav")
        self.graph.connect(node_id, "audio", self.assembler, "music")
        if settings:
            self.set_music(node_id, **settings)
        return node_id

    def set(self, **fields: Any) -> None:
        self.graph.update_node(self.assembler, **fields)

    def clip(self, node_id: str, **settings: Any) -> None:
        current = dict(self.graph.node(self.assembler).data.get("clip_settings") or {})
        current[node_id] = {**current.get(node_id, {}), **settings}
        self.set(clip_settings=current)

    def set_music(self, node_id: str, **settings: Any) -> None:
        current = dict(self.graph.node(self.assembler).data.get("music_settings") or {})
        current[node_id] = settings
        self.set(music_settings=current)

    def inputs(self) -> SequenceInputs:
        return SequenceInputs(
            title="Night Market",
            aspect_ratio=self.aspect_ratio,
            media=dict(self.media),
            problems=dict(self.problems),
            edls=dict(self.edls),
            edl_media=dict(self.edl_media),
        )

    def compile(self, **kwargs: Any) -> Sequence:
        return compile_sequence(self.graph.to_json(), self.inputs(), **kwargs)
