"""``schakel forget --bsn-file``: reading the file (review B5). A file that is not UTF-8 raised
an uncaught ``UnicodeDecodeError`` (a traceback, exit 1), and a file starting with a UTF-8 BOM,
as Excel and Notepad write it, was refused at line 1. Nothing here reaches a broker:
:func:`schakel.forget.forget` is replaced by a stand-in that records the BSNs it is given."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schakel import forget as forget_module
from schakel.cli import main
from schemas.pseudonym import elfproef

BSNS = ["999990019", "999990020", "999990032"]
NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
bsns = st.text("0123456789", min_size=8, max_size=8).map(
    lambda first8: next((first8 + d for d in "0123456789" if elfproef(first8 + d)), "999990019")
)


@pytest.fixture
def forgotten(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """The BSN lists ``schakel forget`` went on to forget (one per run), without a broker."""
    calls: list[list[str]] = []

    def stand_in(settings: object, given: list[str], bootstrap: str) -> list[str]:
        calls.append(list(given))
        return [f"p{i}" for i in range(len(given))]

    monkeypatch.setattr(forget_module, "forget", stand_in)
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "unit-test-key-0123456789abcdef0123456")
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    return calls


def run_forget(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["forget", "--bsn-file", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "case",
    [
        (b"999990019\ncaf\xe9\n", 2, 4),  # Windows-1252 / Latin-1
        (b"\xff\xfe9\x009\x009\x00", 1, 1),  # UTF-16 (Notepad "Unicode")
        (b"# verzoek\n\n999990019\n9999900\x8020\n", 4, 8),
    ],
    ids=["latin-1", "utf-16", "one-bad-byte"],
)
def test_a_file_that_is_not_utf8_is_one_line_naming_file_line_and_byte(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    forgotten: list[list[str]],
    case: tuple[bytes, int, int],
) -> None:
    content, line, byte = case
    path = tmp_path / "vergeet.txt"
    path.write_bytes(content)
    code, out, err = run_forget(path, capsys)
    assert code == 2 and not out and forgotten == []
    assert err == (
        f"schakel forget: vergeet.txt:{line}: byte {byte} of the line is not UTF-8; "
        "save the file as UTF-8 text\n"
    )
    assert not NINE_DIGITS.search(err)


@pytest.mark.parametrize(
    "content", [b"999990019\ngeen bsn\n", b"999990019\ncaf\xe9\n"], ids=["no-bsn", "not-utf8"]
)
def test_a_bsn_in_the_file_name_is_masked(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    forgotten: list[list[str]],
    content: bytes,
) -> None:
    """A file named after the citizen (review C item 4: ``111222333.txt:2: …`` was printed)."""
    path = tmp_path / "999990020.txt"
    path.write_bytes(content)
    code, out, err = run_forget(path, capsys)
    assert code == 2 and not out and forgotten == []
    assert err.startswith("schakel forget: *********.txt:2: "), err
    assert not NINE_DIGITS.search(err)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_utf8_bom_is_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], forgotten: list[list[str]], newline: str
) -> None:
    path = tmp_path / "vergeet.txt"
    path.write_bytes(b"\xef\xbb\xbf" + newline.join(BSNS).encode() + newline.encode())
    code, out, err = run_forget(path, capsys)
    assert (code, err) == (0, "")
    assert forgotten == [BSNS]
    assert out == "schakel forget: 3 burger(s) vergeten; tombstones geschreven\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.one_of(
            bsns,
            st.sampled_from(["", "  ", "# verzoek 2026-11", "\ufeff999990019"]),
            st.binary(max_size=12).map(lambda b: b.decode("latin-1")),
        ),
        max_size=6,
    ),
    bom=st.booleans(),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_whatever_the_file_holds_forget_answers_in_one_line_and_never_prints_a_bsn(
    tmp_path_factory: pytest.TempPathFactory,
    *,
    lines: list[str],
    bom: bool,
    encoding: str,
    newline: str,
) -> None:
    """Exit 0 with exactly the BSN lines (blank and ``#`` lines skipped), or exit 2 with one
    line naming the file — never a traceback, never a BSN on the terminal."""
    calls: list[list[str]] = []

    def stand_in(settings: object, given: list[str], bootstrap: str) -> list[str]:
        calls.append(list(given))
        return given

    path = tmp_path_factory.mktemp("forget") / "vergeet.txt"
    data = (b"\xef\xbb\xbf" if bom else b"") + (newline.join(lines) + newline).encode(
        encoding, "replace"
    )
    path.write_bytes(data)
    err = io.StringIO()
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        monkeypatch.setattr(forget_module, "forget", stand_in)
        monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "unit-test-key-0123456789abcdef0123456")
        monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")
        monkeypatch.setenv("SCHAKEL_DATA_DIR", str(path.parent / "var"))
        code = main(["forget", "--bsn-file", str(path)])
    message = err.getvalue()
    assert not NINE_DIGITS.search(message)
    if code == 0:  # then the file is UTF-8, maybe after a BOM
        text = data.decode("utf-8").removeprefix("\ufeff")
        stripped = [x.strip() for x in re.split(r"\r\n|\r|\n", text)]
        assert calls == [[x for x in stripped if x and not x.startswith("#")]]
        assert message == "" and all(elfproef(x) for x in calls[0])
    else:
        assert code == 2 and calls == []
        assert message.startswith("schakel forget: vergeet.txt:") and message.count("\n") == 1
