"""Same citizens and seed → the same municipality, byte for byte; another seed differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from schakel.synth import SynthError, build_municipality, write_municipality


def tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_municipality(build_municipality(300, 5), tmp_path / name, oin="0" * 20, key="k")
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len(first) > 50
    assert first == second


def test_other_seed_other_municipality() -> None:
    one = build_municipality(300, 5)
    other = build_municipality(300, 6)
    assert [p.bsn for p in one.people] != [p.bsn for p in other.people]
    assert len(one.facts) != len(other.facts) or one.facts != other.facts


def test_rewriting_a_generated_directory_replaces_it(tmp_path: Path) -> None:
    write_municipality(build_municipality(300, 5), tmp_path, oin="0" * 20, key="k")
    before = tree(tmp_path)
    write_municipality(build_municipality(300, 6), tmp_path, oin="0" * 20, key="k")
    write_municipality(build_municipality(300, 5), tmp_path, oin="0" * 20, key="k")
    assert tree(tmp_path) == before


def test_refuses_a_foreign_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SynthError, match="not empty"):
        write_municipality(build_municipality(300, 5), tmp_path, oin="0" * 20, key=None)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_too_few_citizens() -> None:
    with pytest.raises(SynthError, match="at least"):
        build_municipality(20, 1)
