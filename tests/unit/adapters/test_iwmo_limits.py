"""XML safety limits of the iWmo adapter: deep nesting and element floods are refused with a
reason before a large tree is built (a million-level nesting used to be accepted and take
346 MB); a file over the size limit is refused without being read whole."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from adapters.exceptions import Rejection
from adapters.iwmo import IwmoSource, safexml
from tests.unit.adapters.conftest import PSEUDONYMISER, SAMPLES, SOURCE
from tests.unit.adapters.iwmo_support import VOORBEELDEN

MAX_BYTES = 10_485_760  # the default SCHAKEL_MAX_XML_BYTES


def read_one(path: Path) -> tuple[Rejection, int, float]:
    """The rejection of a one-record file, the peak of traced memory and the seconds taken."""
    tracemalloc.start()
    begin = time.perf_counter()
    try:
        (record,) = IwmoSource(
            path, source=SOURCE, max_bytes=MAX_BYTES, pseudonymiser=PSEUDONYMISER
        ).records({})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record.rejection is not None
    return record.rejection, peak, time.perf_counter() - begin


def test_a_million_levels_of_nesting_are_refused_early(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    levels = 1_000_000
    path.write_bytes(b"<a>" * levels + b"</a>" * levels)  # 7 MB: under the size limit
    assert path.stat().st_size < MAX_BYTES
    rejection, peak, seconds = read_one(path)
    assert rejection.reason == "too-deep"
    assert str(rejection) == (
        "elements nested deeper than 32 levels (an iWmo message nests at most 8); "
        "refused without reading further"
    )
    assert peak < 20_000_000  # the 7 MB file itself, not a tree of a million elements
    assert seconds < 2


def test_deep_nesting_inside_a_real_message_is_refused(tmp_path: Path) -> None:
    text = (SAMPLES / "iwmo" / "2026-01-08_WMO301_0001.xml").read_text(encoding="utf-8")
    head, tail = text.split("<wmo301:Commentaar>", 1)
    path = tmp_path / "m.xml"
    path.write_text(head + "<x>" * 40 + "</x>" * 40 + "<wmo301:Commentaar>" + tail)
    rejection, _, _ = read_one(path)
    assert rejection.reason == "too-deep"


def test_an_element_flood_is_refused_before_the_tree_grows(tmp_path: Path) -> None:
    path = tmp_path / "flood.xml"
    path.write_bytes(b"<r>" + b"<a/>" * 2_500_000 + b"</r>")  # 10 MB of empty elements
    assert path.stat().st_size < MAX_BYTES
    rejection, peak, _ = read_one(path)
    assert rejection.reason == "too-large"
    assert f"more than {safexml.MAX_ELEMENTS} elements" in str(rejection)
    assert peak < 40_000_000  # the file and at most MAX_ELEMENTS elements


def test_the_limits_are_far_from_any_real_message() -> None:
    for path in sorted(VOORBEELDEN.glob("*.xml")) + sorted((SAMPLES / "iwmo").glob("*.xml")):
        root = safexml.parse(path.read_bytes(), max_depth=8, max_elements=1000)
        assert root.tag.endswith("}Bericht"), path.name


@pytest.mark.parametrize(("depth", "refused"), [(32, False), (33, True)])
def test_the_depth_limit_is_exact(depth: int, refused: bool) -> None:
    data = b"<a>" * depth + b"</a>" * depth
    if refused:
        with pytest.raises(Rejection, match="deeper than 32"):
            safexml.parse(data)
    else:
        assert safexml.parse(data).tag == "a"


def test_the_element_limit_is_exact() -> None:
    data = b"<r>" + b"<a/>" * 9 + b"</r>"
    assert len(safexml.parse(data, max_elements=10)) == 9
    with pytest.raises(Rejection, match="more than 9 elements"):
        safexml.parse(data, max_elements=9)
