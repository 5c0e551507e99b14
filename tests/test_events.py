from pathlib import Path

import pytest

from studio.events import (
    CANCELED_CODE,
    CLIENT_EVENTS,
    SERVER_EVENTS,
    EventError,
    apply_event,
    fold_status,
    is_final,
    make_event,
    parse_event,
    typescript_module,
)

EVENTS_TS = Path(__file__).resolve().parents[1] / "widgets/src/events.ts"


def test_table_6_names_are_in_the_vocabulary() -> None:
    for name in ("client:update_node_data", "client:start_generation", "client:sync_request"):
        assert name in CLIENT_EVENTS
    for name in (
        "server:node_state_updated", "server:task_progress", "server:task_success",
        "server:task_failed", "server:full_sync", "server:notification",
    ):  # fmt: skip
        assert name in SERVER_EVENTS


def test_typescript_vocabulary_is_generated_from_python() -> None:
    assert EVENTS_TS.read_text() == typescript_module(), (
        "widgets/src/events.ts is stale: run `python -m studio.events > widgets/src/events.ts`"
    )


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("not a dict", "must be an object"),
        ({"event": "client:fly"}, "unknown event 'client:fly'"),
        ({"event": "client:start_generation", "payload": {}}, "payload.node_id: Field required"),
        ({"event": "server:task_progress", "payload": {"task_id": "t", "node_id": "n",
                                                       "progress": 150}}, "payload.progress"),
        ({"event": "client:sync_request", "payload": {"extra": 1}}, "payload.extra"),
    ],
)  # fmt: skip
def test_invalid_messages_are_refused_clearly(message: object, error: str) -> None:
    with pytest.raises(EventError, match=error):
        parse_event(message)


def test_node_status_folds_the_task_lifecycle() -> None:
    status: dict[str, object] = {}
    status = apply_event(
        status,
        make_event("server:node_state_updated", node_id="n", state="generating", task_id="t"),
    )
    status = apply_event(
        status,
        make_event("server:task_progress", task_id="t", node_id="n", progress=40, step="Denoising"),
    )
    assert status["n"] == {
        "state": "generating",
        "task_id": "t",
        "progress": 40,
        "step": "Denoising",
    }
    result = {"output_url": "x.png", "take": "SHOT-010_v01_take01.png"}
    done = apply_event(
        status, make_event("server:task_success", task_id="t", node_id="n", result=result)
    )
    assert done["n"]["state"] == "success" and done["n"]["take"] == "SHOT-010_v01_take01.png"
    failed = apply_event(
        status, make_event("server:task_failed", task_id="t", node_id="n", error="OOM!", code="OOM")
    )
    assert failed["n"]["state"] == "failed" and failed["n"]["error"] == "OOM!"
    again = apply_event(
        failed, make_event("server:node_state_updated", node_id="n", state="queued")
    )
    assert "error" not in again["n"] and again["n"]["progress"] == 0
    queued = make_event(
        "server:node_state_updated", node_id="n", state="queued", step="waiting for a CPU worker"
    )
    waiting = apply_event(again, queued)
    assert (waiting["n"]["state"], waiting["n"]["step"]) == ("queued", "waiting for a CPU worker")
    assert apply_event(again, make_event("server:notification", message="hi")) == again


def test_a_cancel_ends_canceled_in_either_order_and_only_then_is_final() -> None:
    failed = make_event("server:task_failed", task_id="t", node_id="n", error="stop",
                        code=CANCELED_CODE)["payload"]  # fmt: skip
    canceled = make_event("server:node_state_updated", node_id="n", state="canceled")["payload"]
    first = fold_status({}, "server:task_failed", failed)
    assert (first["state"], first["code"]) == ("failed", "CANCELED")
    assert not is_final(first["state"], first["code"])  # the state "canceled" follows
    then = fold_status(first, "server:node_state_updated", canceled)
    assert then["state"] == "canceled" and is_final(then["state"], then.get("code"))
    reverse = fold_status(
        fold_status({}, "server:node_state_updated", canceled), "server:task_failed", failed
    )
    assert reverse["state"] == "canceled" and is_final(reverse["state"], reverse["code"])
    other = make_event("server:task_failed", node_id="n", error="no engine", code="NO_ENGINE")
    assert fold_status(then, "server:task_failed", other["payload"])["state"] == "failed"


def test_the_cancel_code_is_the_runners() -> None:
    from studio.runner.contract import ErrorCode

    assert ErrorCode.CANCELED == CANCELED_CODE


def test_only_status_events_change_a_node() -> None:
    status = {"n": {"state": "success", "takes": ["a.png"]}}
    for message in (
        make_event("server:notification", message="hi", node_id="n"),
        make_event("client:start_generation", node_id="n"),
    ):
        assert apply_event(status, message) is status
    queued = apply_event(status, make_event("server:node_state_updated", node_id="n",
                                            state="queued", task_id="t"))  # fmt: skip
    assert queued["n"] == {"state": "queued", "task_id": "t", "progress": 0, "step": "",
                           "takes": ["a.png"]}  # fmt: skip
