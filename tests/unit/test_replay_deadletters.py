"""``schakel replay`` counts the records the stream side dead-lettered in its run, per source
topic, stage and reason — never anything of a record — and exits
:data:`~schakel.replay.EXIT_DEADLETTERED` (the pipeline through the CLI:
tests/integration/streams/test_replay.py)."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from schakel import replay
from schakel.dlq import DeadLetter, _streams, read_committed
from schemas.binding import deadletter_record
from schemas.settings import load_settings
from schemas.wire import HEADER_ERROR_REASON
from streams.ingest import IngestError
from tests.unit.streams.test_api_deadletters import BSN, dead_letter

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "scenario.jsonl"


def letter(ident: str, topic: str | None, stage: str, reason: str) -> DeadLetter:
    return DeadLetter(
        id=ident,
        kind="streams",
        stage=stage,
        reason=reason,
        location=f"{topic}/0/1",
        size=10,
        digest="0" * 16,
        message=f"the message of {ident}",
        topic=topic,
        key=b"key-" + ident.encode(),
        value=b"value-" + ident.encode(),
    )


def test_dead_letters_are_counted_per_topic_stage_and_reason() -> None:
    letters = [
        letter("a", "schakel.wmo.events", "accept", "HistoryLimitError"),
        letter("b", "schakel.klok", "decode", "ForeignSchema"),
        letter("c", "schakel.wmo.events", "accept", "HistoryLimitError"),
        letter("d", "schakel.wmo.events", "validate", "IngestError"),
        letter("e", "schakel.wmo.events", "accept", "OutputTooLarge"),
        letter("f", "schakel.klok", "decode", "ForeignSchema"),
    ]
    assert replay.deadletter_lines(letters) == [
        "replay: dead letters of schakel.klok (stage decode, reason ForeignSchema): 2",
        "replay: dead letters of schakel.wmo.events (stage accept, reason HistoryLimitError): 2",
        "replay: dead letters of schakel.wmo.events (stage accept, reason OutputTooLarge): 1",
        "replay: dead letters of schakel.wmo.events (stage validate, reason IngestError): 1",
    ]
    assert replay.deadletter_lines([]) == []


def test_the_count_shows_nothing_of_a_record() -> None:
    # a dead letter as the worker writes it, of a record that holds a BSN in its key, value,
    # headers and error message
    found = _streams(dead_letter(7, 100_000))
    (line,) = replay.deadletter_lines([found])
    assert line == "replay: dead letters of schakel.wmo.events (stage decode, reason ValueError): 1"
    shown = "\n".join(
        replay.deadletter_lines([found, letter("x", "schakel.wmo.events", "accept", "E")])
    )
    for content in (BSN, "geen", found.id, "the message", "key-x", "value-x", "/0/"):
        assert content not in shown, content


def test_header_text_is_one_line_masked_and_bounded() -> None:
    # written by another producer: no source topic or stage, a line break and a BSN in the
    # reason, a BSN in the topic, a very long reason
    odd = letter("z", None, "", f"Bad\nreplay: forged {BSN}")
    long = letter("y", f"topic-{BSN}", "decode", "X" * 500)
    assert replay.deadletter_lines([odd, long]) == [
        "replay: dead letters of ? (stage ?, reason Bad replay: forged *********): 1",
        f"replay: dead letters of topic-********* (stage decode, reason {'X' * 120}): 1",
    ]


def _run(monkeypatch: pytest.MonkeyPatch, rejected: int, letters: Sequence[DeadLetter]) -> int:
    """``schakel replay`` with the pipeline replaced by one that gives ``rejected`` rejected
    input records and ``letters``: its exit code."""

    def pipeline(*_: Any, **__: Any) -> replay.Outcome:
        return replay.Outcome([], Counter(), rejected, list(letters))

    monkeypatch.setattr(replay, "replay", pipeline)
    parser = argparse.ArgumentParser()
    replay.add_arguments(parser)
    args = parser.parse_args([str(SCENARIO)])
    args.argv = ["replay", str(SCENARIO)]
    return replay.run(args, load_settings())


def test_a_run_with_dead_letters_exits_5_over_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    two = [
        letter("a", "schakel.wmo.events", "accept", "HistoryLimitError"),
        letter("b", "schakel.wmo.events", "accept", "HistoryLimitError"),
    ]
    for rejected, letters, code in (
        (0, [], 0),
        (1, [], replay.EXIT_REJECTED),
        (0, two, replay.EXIT_DEADLETTERED),
        (1, two, replay.EXIT_DEADLETTERED),  # both counted on stderr
    ):
        assert _run(monkeypatch, rejected, letters) == code
        err = capsys.readouterr().err
        assert f"afgewezen invoerregels: {rejected}; dead letters: {len(letters)}" in err
        counted = "dead letters of schakel.wmo.events (stage accept, reason HistoryLimitError): 2"
        assert (counted in err) == bool(letters)
    assert replay.EXIT_DEADLETTERED not in (0, 1, 2, replay.EXIT_REJECTED, 4, 70, 75, 130)


def _refused(reason: str, error: BaseException, *, written: str | None = None) -> DeadLetter:
    """The dead letter the worker writes for a record refused at ``validate`` with ``error``
    and ``reason`` (``written``: the reason header replaced, as another producer might)."""
    made = dead_letter(9, 100_000)
    key, value, headers = deadletter_record(
        [],
        key=made.key,
        value=made.value,
        limit=100_000,
        topic="schakel.wmo.events",
        partition=0,
        offset=9,
        stage="validate",
        error=error,
        reason=reason,
        source="urn:schakel:test",
        time=None,
        timestamp=None,
    )
    if written is not None:
        headers = [(n, written.encode() if n == HEADER_ERROR_REASON else v) for n, v in headers]
    return _streams(SimpleNamespace(offset=9, timestamp=1, key=key, value=value, headers=headers))


def test_the_refusal_code_says_why_in_the_list_and_the_count() -> None:
    """Before, every refusal at decode and validate was told as ``IngestError`` alone: the
    code (``schakel.fout.reden``, the metric's label) was not in the dead letter."""
    wrong = _refused("wrong-type", IngestError(f"no {BSN}", stage="validate", reason="wrong-type"))
    assert (wrong.reason, wrong.code, wrong.cause) == (
        "IngestError",
        "wrong-type",
        "IngestError/wrong-type",
    )
    assert " IngestError/wrong-type " in wrong.line()
    subject = _refused("bad-subject", IngestError("x", stage="validate", reason="bad-subject"))
    assert replay.deadletter_lines([wrong, subject, wrong]) == [
        "replay: dead letters of schakel.wmo.events "
        "(stage validate, reason IngestError/bad-subject): 1",
        "replay: dead letters of schakel.wmo.events "
        "(stage validate, reason IngestError/wrong-type): 2",
    ]
    # a defect: the code is the class, shown once
    defect = _refused("KeyError", KeyError("k"))
    assert (defect.code, defect.cause) == ("KeyError", "KeyError")
    # written by another producer: a header that is no code is shown as "?", never as given
    forged = _refused("wrong-type", ValueError("x"), written=f"see {BSN} here")
    assert (forged.code, forged.cause) == ("?", "ValueError/?")
    assert BSN not in forged.line() and BSN not in "\n".join(replay.deadletter_lines([forged]))
    # a dead letter written before the header existed: the class alone
    older = letter("o", "schakel.wmo.events", "validate", "IngestError")
    assert older.cause == "IngestError" and " IngestError " in older.line()


@pytest.mark.parametrize("profile", ["embedded", "kafka", "production"])
def test_dead_letters_are_read_committed_wherever_the_worker_runs_exactly_once(
    profile: str,
) -> None:
    from streams.transactions import processing_guarantee

    assert read_committed(profile) == (processing_guarantee(profile) == "exactly_once")
