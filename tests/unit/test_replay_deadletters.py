"""``schakel replay`` counts the records the stream side dead-lettered in its run, per source
topic, stage and reason — never anything of a record — and exits
:data:`~schakel.replay.EXIT_DEADLETTERED` (the pipeline through the CLI:
tests/integration/streams/test_replay.py)."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from schakel import replay
from schakel.dlq import DeadLetter, _streams
from schemas.settings import load_settings
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
