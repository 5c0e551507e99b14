"""Notebook HTML for workspaces, projects and takes (``_repr_html_``).

Images are shown as small inline thumbnails; videos inline up to a size cap, so a notebook
never swallows a multi-GB render."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Final

from studio.project.thumbnails import data_url, jpeg_thumbnail

if TYPE_CHECKING:
    from studio.project.project import Project
    from studio.project.takes import Take
    from studio.workspace import Workspace

THUMBNAIL_PX: Final = 320
INLINE_VIDEO_MAX_BYTES: Final = 16 * 1024 * 1024
_VIDEO_TYPES: Final = {"mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime"}
_STYLE: Final = "font-family:var(--jp-ui-font-family,sans-serif);font-size:13px"


def take_media_html(take: Take) -> str:
    if not take.ready:
        return "<em>reserved — not written yet</em>"
    mime = _VIDEO_TYPES.get(take.ext)
    if mime and take.path.stat().st_size <= INLINE_VIDEO_MAX_BYTES:
        data = base64.b64encode(take.path.read_bytes()).decode()
        return f'<video controls width="{THUMBNAIL_PX}" src="data:{mime};base64,{data}"></video>'
    jpeg = None if mime else jpeg_thumbnail(take.path, size=THUMBNAIL_PX)
    if jpeg:
        url = data_url(jpeg)
        return (
            f'<img src="{url}" alt="{html.escape(take.name)}" style="max-width:{THUMBNAIL_PX}px">'
        )
    size_mb = take.path.stat().st_size / 1e6
    return f"<code>{html.escape(str(take.path))}</code> ({size_mb:.1f} MB)"


def take_html(take: Take) -> str:
    provenance, error = take.read_provenance()
    details = f"<tr><th>broken</th><td>{html.escape(error)}</td></tr>" if error else ""
    if provenance:
        rows = {
            "pipeline": provenance.pipeline,
            "prompt": provenance.prompt,
            "seed": provenance.seed,
            "quality": provenance.quality,
        }
        details += "".join(
            f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows.items()
            if v is not None
        )
    return (
        f"<div style='{_STYLE}'><b>{html.escape(take.name)}</b> "
        f"(scene {take.scene}, shot {take.shot}, v{take.version:02d}, take {take.number:02d})"
        f"<div>{take_media_html(take)}</div><table>{details}</table></div>"
    )


def project_html(project: Project) -> str:
    manifest = project.manifest
    shots = project.shots()
    take_count = sum(len(project.takes(scene=sc, shot=sh)) for sc, sh in shots)
    return (
        f"<div style='{_STYLE}'><b>{html.escape(manifest.title)}</b>"
        f" <small>({manifest.project_settings.quality} quality,"
        f" {html.escape(manifest.project_settings.aspect_ratio)})</small>"
        f"<br>{html.escape(manifest.description)}"
        f"<br><small>uuid {manifest.uuid} · {len(shots)} shots · {take_count} takes"
        f" · <code>{html.escape(str(project.path))}</code></small></div>"
    )


def workspace_html(workspace: Workspace) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(p.title)}</td><td><code>{html.escape(p.name)}</code></td>"
        f"<td>{p.manifest.project_settings.quality}</td><td><small>{p.uuid}</small></td></tr>"
        for p in workspace.projects()
    )
    problems = "".join(
        f"<li>{html.escape(problem)}</li>" for problem in workspace.quality_map_problems()
    )
    warning = f"<div style='color:#b45309'><ul>{problems}</ul></div>" if problems else ""
    return (
        f"<div style='{_STYLE}'><b>Workspace</b> <code>{html.escape(str(workspace.path))}</code>"
        "<table><tr><th>title</th><th>folder</th><th>quality</th><th>uuid</th></tr>"
        f"{rows}</table>{warning}</div>"
    )
