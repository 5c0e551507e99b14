"""A sweep's axes and cells (pure): product and zip, and every refusal with what to fix."""

from __future__ import annotations

import pytest

from studio.pipelines import get_pipeline
from studio.sweeps.cells import (
    MAX_CELLS,
    Axis,
    SweepError,
    check_axes,
    expand,
    qualities,
    sweep_axes,
)

DRAFT = get_pipeline("t2i-draft").manifest  # prompt, seed, shot_label, aspect_ratio, width


def values(axes: list[Axis], mode: str = "product") -> list[dict[str, object]]:
    return [dict(cell.values) for cell in expand(axes, mode)]  # type: ignore[arg-type]


def test_product_combines_every_value_first_axis_slowest():
    axes = sweep_axes(prompt=["dawn", "dusk"], seed=range(2), params={"width": [256, 512]})
    assert [a.name for a in axes] == ["prompt", "seed", "width"]
    cells = expand(axes, "product")
    assert [c.index for c in cells] == list(range(8))
    assert values(axes)[:3] == [
        {"prompt": "dawn", "seed": 0, "width": 256},
        {"prompt": "dawn", "seed": 0, "width": 512},
        {"prompt": "dawn", "seed": 1, "width": 256},
    ]
    assert values(axes)[-1] == {"prompt": "dusk", "seed": 1, "width": 512}
    assert len({tuple(v.items()) for v in values(axes)}) == 8


def test_zip_pairs_the_axes_side_by_side():
    axes = sweep_axes(prompt=["a", "b", "c"], seed=[7, 8, 9])
    assert values(axes, "zip") == [
        {"prompt": "a", "seed": 7}, {"prompt": "b", "seed": 8}, {"prompt": "c", "seed": 9},
    ]  # fmt: skip


def test_a_cell_splits_its_own_axes_from_pipeline_inputs():
    [cell] = expand(sweep_axes(prompt="x", seed=3, quality="low", params={"width": 64}), "zip")
    assert (cell.prompt, cell.seed, cell.quality, cell.inputs) == ("x", 3, "low", {"width": 64})
    [bare] = expand(sweep_axes(params={"width": [64]}), "product")
    assert (bare.prompt, bare.seed, bare.quality) == (None, None, None)


def test_one_string_is_one_value_not_its_letters():
    [axis] = sweep_axes(prompt="lanterns")
    assert axis.values == ("lanterns",)


def test_a_generator_is_read_once():
    [axis] = sweep_axes(seed=(i * 10 for i in range(3)))
    assert axis.values == (0, 10, 20)
    assert len(expand([axis], "product")) == 3


def test_zip_of_unequal_axes_names_their_lengths():
    axes = sweep_axes(prompt=["a", "b"], seed=range(3))
    with pytest.raises(SweepError, match=r"zip needs axes of one length.*prompt: 2, seed: 3"):
        expand(axes, "zip")


def test_an_empty_axis_is_refused():
    with pytest.raises(SweepError, match="axis 'seed' has no values") as caught:
        sweep_axes(prompt=["a"], seed=[], params={"width": ()})
    assert len(caught.value.problems) == 2  # both, at once
    assert "width" in caught.value.problems[1]


def test_no_axis_at_all_is_refused():
    with pytest.raises(SweepError, match="no axis"):
        sweep_axes()


def test_own_axes_are_not_params():
    with pytest.raises(SweepError, match=r"'seed' is an argument of its own: sweep\(\.\.\., seed="):
        sweep_axes(params={"seed": [1, 2]})


def test_an_unknown_mode_is_refused():
    with pytest.raises(SweepError, match="mode must be 'product' or 'zip'"):
        expand(sweep_axes(seed=[1]), "grid")  # type: ignore[arg-type]


def test_too_many_cells_is_taken_for_a_mistake():
    with pytest.raises(SweepError, match=f"more than {MAX_CELLS}"):
        expand(sweep_axes(seed=range(100), params={"width": range(64, 164)}), "product")


def test_axes_the_pipeline_accepts_pass():
    axes = sweep_axes(prompt=["a", "b"], seed=[0, 2**31 - 1], quality=["low", "high"],
                      params={"width": [64, 4096], "aspect_ratio": ["1:1"]})  # fmt: skip
    check_axes(axes, {"low": DRAFT, "high": DRAFT})


def test_an_unknown_input_names_what_the_pipeline_declares():
    with pytest.raises(SweepError) as caught:
        check_axes(sweep_axes(params={"steps": [4, 8]}), {"low": DRAFT})
    message = str(caught.value)
    assert "unknown input 'steps'" in message and "'t2i-draft'" in message
    assert "prompt, seed, shot_label, aspect_ratio, width" in message


def test_values_out_of_range_or_of_the_wrong_type_are_named_with_their_position():
    axes = sweep_axes(params={"width": [512, 10, "wide", 9000]})
    with pytest.raises(SweepError) as caught:
        check_axes(axes, {"low": DRAFT})
    [problem] = caught.value.problems
    assert problem.startswith("axis 'width': value 1 (10) must be at least 64")
    assert "value 2 ('wide') expects a whole number" in problem
    assert "value 3 (9000) must be at most 4096" in problem
    assert "value 0" not in problem


def test_a_choice_outside_the_declared_ones_is_refused():
    with pytest.raises(SweepError, match=r"aspect_ratio.*must be one of 16:9"):
        check_axes(sweep_axes(params={"aspect_ratio": ["3:1"]}), {"low": DRAFT})


def test_bad_seeds_prompts_and_qualities_are_each_reported():
    seeds: list[object] = [-1, 1.5, True]  # what a notebook might pass, typed or not
    qualities_given: list[object] = ["low", "ultra"]
    axes = sweep_axes(prompt=["ok", "  "], seed=seeds, quality=qualities_given)  # type: ignore[arg-type]
    with pytest.raises(SweepError) as caught:
        check_axes(axes, {"low": DRAFT})
    prompt, seed, quality = caught.value.problems
    assert "value 1 ('  ') is not a prompt" in prompt
    assert "value 0 (-1) is outside 0..2147483647" in seed
    assert "value 1 (1.5) is not a whole number" in seed and "value 2 (True)" in seed
    assert "value 1 ('ultra') is not one of low, standard, high" in quality


def test_many_bad_values_are_summed_up():
    with pytest.raises(SweepError, match=r"\(and 2 more\)"):
        check_axes(sweep_axes(seed=[-1, -2, -3, -4, -5]), {"low": DRAFT})


def test_an_input_is_checked_against_the_pipeline_of_every_quality():
    narrow = DRAFT.model_copy(update={"id": "t2i-narrow", "inputs": DRAFT.inputs[:4]})
    with pytest.raises(SweepError, match=r"unknown input 'width': pipeline 't2i-narrow' \(at high"):
        check_axes(sweep_axes(params={"width": [64]}), {"low": DRAFT, "high": narrow})


def test_a_file_input_cannot_be_swept():
    from studio.pipelines import InputSpec

    with_file = DRAFT.model_copy(
        update={"inputs": (*DRAFT.inputs, InputSpec(name="image", type=("Image",)))}
    )
    with pytest.raises(SweepError, match="is a file: connect it to the shot"):
        check_axes(sweep_axes(params={"image": ["a.png"]}), {"low": with_file})


def test_the_qualities_a_sweep_runs_at():
    cells = expand(sweep_axes(quality=["high", "low", "high"]), "product")
    assert qualities(cells, "standard") == ["high", "low"]
    assert qualities(expand(sweep_axes(seed=[1]), "product"), "standard") == ["standard"]
