"""``schakel generate --citizens N --seed S --out DIR``: a synthetic municipality over two years
(2024-11-01 … 2026-10-31) in every silo's native format, with planted gaps of every rule, a
ground truth and a manifest (:mod:`schakel.synth`; ``docs/synthetic-municipality.md``).

Deterministic: the same ``--citizens`` and ``--seed`` give byte-identical files. With a
pseudonym key (``--pseudonym-key-file``, else ``SCHAKEL_PSEUDONYM_KEY`` or ``_FILE``) the
ground truth carries the pseudonyms the pipeline will compute with that key; without it, only
synthetic person ids. The key itself is never an argument: a command line is visible to every
user of the machine (``ps``), and the key is the one secret that turns pseudonyms back into
BSNs by trying every number (``--pseudonym-key KEY`` is refused, exit 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from schakel.arguments import whole_number
from schakel.synth import SynthError, build_municipality, write_municipality
from schakel.synth.bsn import block
from schakel.synth.municipality import MIN_CITIZENS
from schemas.exceptions import SettingsError
from schemas.settings import GenerateSettings, read_key_file

DEFAULT_CITIZENS = 2000
MAX_CITIZENS = len(block())
"""One synthetic BSN each: the numbers of the ``9999`` block that pass the elfproef (9,091)."""
DEFAULT_SEED = 2026
SEED_MAX = 2**63 - 1
"""The largest seed: any whole number from 0 a signed 64-bit integer holds (a seed is only
ever turned into text, ``schakel.synth.municipality``; the bound keeps it a number a person
can type and read back)."""
KEY_ARGUMENT = (
    "generate: --pseudonym-key is not accepted: a command line is visible to every user of the "
    "machine (ps); give the key in a file (--pseudonym-key-file FILE) or in "
    "SCHAKEL_PSEUDONYM_KEY / SCHAKEL_PSEUDONYM_KEY_FILE"
)


def generate(
    citizens: int, seed: int, out: Path, *, oin: str, key: str | None
) -> dict[str, object]:
    """Build and write the municipality; return its manifest."""
    municipality = build_municipality(citizens, seed)
    return write_municipality(municipality, out, oin=oin, key=key)


def run(args: argparse.Namespace, settings: GenerateSettings) -> int:
    """The ``generate`` subcommand."""
    if args.pseudonym_key is not None:
        print(f"schakel {KEY_ARGUMENT}", file=sys.stderr)
        return 2
    key = None
    if args.pseudonym_key_file is not None:
        try:
            key = read_key_file(Path(args.pseudonym_key_file), "--pseudonym-key-file")
        except SettingsError as exc:
            print(f"schakel generate: {exc}", file=sys.stderr)
            return 2
    elif settings.pseudonym_key or settings.pseudonym_key_file:
        key, _ = settings.resolve_pseudonym_key()
    started = time.monotonic()
    try:
        manifest = generate(args.citizens, args.seed, Path(args.out), oin=settings.oin, key=key)
    except SynthError as exc:
        print(f"schakel generate: {exc}", file=sys.stderr)
        return 2
    planted = manifest["geplant"]
    near = manifest["bijna"]
    assert isinstance(planted, dict) and isinstance(near, dict)
    print(
        f"generate: {manifest['burgers']} burgers, {manifest['gebeurtenissen']} gebeurtenissen, "
        f"{sum(planted.values())} geplante signalen, {sum(near.values())} bijna-missers "
        f"→ {args.out} ({time.monotonic() - started:.1f}s)"
    )
    if key is None:
        print(
            "generate: no pseudonym key given; ground-truth.json names synthetic person ids "
            "only (give the pipeline's key in --pseudonym-key-file or SCHAKEL_PSEUDONYM_KEY "
            "to add pseudonyms)",
            file=sys.stderr,
        )
    return 0


def add_municipality_arguments(parser: argparse.ArgumentParser) -> None:
    """``--citizens`` and ``--seed``, of ``schakel generate`` and ``schakel demo`` (which
    generates its municipality the same way): checked before anything starts, a refusal names
    the option and the rule, never what was typed (:mod:`schakel.arguments`)."""
    parser.add_argument(
        "--citizens",
        type=whole_number(MIN_CITIZENS, MAX_CITIZENS),
        default=DEFAULT_CITIZENS,
        help=f"citizens known to the social domain, {MIN_CITIZENS} to {MAX_CITIZENS} (one "
        f"synthetic BSN each; default {DEFAULT_CITIZENS})",
    )
    parser.add_argument(
        "--seed",
        type=whole_number(0, SEED_MAX),
        default=DEFAULT_SEED,
        help=f"random seed, 0 to 2**63-1 (default {DEFAULT_SEED})",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``schakel generate``."""
    add_municipality_arguments(parser)
    parser.add_argument(
        "--out",
        required=True,
        help="directory to write (new, empty, or an "
        "earlier generated municipality, which is replaced)",
    )
    parser.add_argument(
        "--pseudonym-key-file",
        default=None,
        metavar="FILE",
        help="file holding the key for the pseudonyms in ground-truth.json (default: "
        "SCHAKEL_PSEUDONYM_KEY or SCHAKEL_PSEUDONYM_KEY_FILE if set)",
    )
    # refused with an explanation (a key on the command line is visible to every user)
    parser.add_argument("--pseudonym-key", default=None, help=argparse.SUPPRESS)
