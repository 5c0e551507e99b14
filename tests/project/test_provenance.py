"""A take's sidecar: the sweep mark is optional, so sidecars written before it still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.documents import load_model, write_model
from studio.errors import ManifestError
from studio.project.provenance import Provenance, SweepMark


def test_a_sidecar_from_before_sweeps_reads_without_a_mark(tmp_path: Path):
    old = tmp_path / "SHOT-010_v01_take01.take.json"
    old.write_text(json.dumps({"take": "SHOT-010_v01_take01.png", "creative_fingerprint": "x",
                               "pipeline": "t2i-draft", "seed": 7, "duration_s": 1.5}))  # fmt: skip
    provenance = load_model(old, Provenance)
    assert provenance.sweep is None and provenance.seed == 7
    assert (provenance.model_extra or {})["duration_s"] == 1.5  # unknown keys are kept


def test_a_sweep_mark_is_written_and_read_back(tmp_path: Path):
    path = tmp_path / "t.take.json"
    mark = SweepMark(id="20260101-000000-aaaaaa", cell=3, values={"prompt": "a", "width": 64})
    write_model(path, Provenance(take="t.png", creative_fingerprint="x", sweep=mark))
    assert load_model(path, Provenance).sweep == mark


def test_a_bad_mark_is_reported_with_its_field(tmp_path: Path):
    path = tmp_path / "t.take.json"
    path.write_text(json.dumps({"take": "t.png", "creative_fingerprint": "x",
                                "sweep": {"id": "s", "cell": -1}}))  # fmt: skip
    with pytest.raises(ManifestError, match="sweep"):
        load_model(path, Provenance)
