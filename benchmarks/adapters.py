"""Throughput of the file adapters: one-shot runs over 100 000 records against the embedded broker.

    python -m benchmarks.adapters [--records 100000] [--batch-size 1000] [--only iwmo,...]

Generates the inputs in a temporary directory (synthetic citizens with test-range BSNs), starts
a fresh embedded broker, and runs each adapter once through the real publishing path (read →
validate + pseudonymise → Avro → kafka-python producer with acks=all → checkpoint per batch).
Prints a table of records/s; the numbers are reported in docs/adapters.md.

The generators are also used by the crash (kill -9) tests.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from schemas.pseudonym import elfproef

SOCIALE_DIENST_HEADER = (
    "bsn;gebeurtenis;datum;regeling;reden;uitkomst;trede;van;traject_id;soort;uren_per_week;"
    "registratie_id"
)


def synthetic_bsns(count: int = 900) -> list[str]:
    """Elfproef-valid BSNs of the test range 99999xxxx (never real people); at most ~900."""
    out: list[str] = []
    number = 999_990_000
    while len(out) < count and number <= 999_999_999:
        if elfproef(str(number)):
            out.append(str(number))
        number += 1
    return out


def _day(n: int) -> str:
    return f"2026-{(n // 28) % 12 + 1:02d}-{n % 28 + 1:02d}"


def write_sociale_dienst(path: Path, count: int) -> Path:
    """A Participatiewet export of ``count`` rows over all seven gebeurtenissen."""
    bsns = synthetic_bsns()
    rows = [
        "uitkering-toegekend;{d};bijstand;;;;;;;;",
        "uitkering-beeindigd;{d};;werk;;;;;;;",
        "aanvraag-afgewezen;{d};;geen-recht;;;;;;;",
        "arbeidsvermogen-vastgesteld;{d};;;gedeeltelijk;3;;;;;",
        "verwijzing-ontvangen;{d};;;;;wmo;;;;",
        "traject-gestart;{d};;;;;;T-{n};re-integratie;16,5;",
        "traject-beeindigd;{d};;afgerond;;;;T-{n};;;",
    ]
    with path.open("w", encoding="utf-8") as handle:
        handle.write(SOCIALE_DIENST_HEADER + "\n")
        for n in range(count):
            body = rows[n % len(rows)].format(d=_day(n), n=n)
            handle.write(f"{bsns[n % len(bsns)]};{body[:-1]};PW-{n:08d}\n")
    return path


def write_vroegsignalering(directory: Path, count: int) -> tuple[Path, Path]:
    """``count`` records: half signals, half follow-up actions."""
    bsns = synthetic_bsns()
    signalen, acties = directory / "signalen.csv", directory / "acties.csv"
    half = count // 2
    with signalen.open("w", encoding="utf-8") as handle:
        handle.write("signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging\n")
        for n in range(count - half):
            handle.write(
                f"VS-{n:08d};{bsns[n % len(bsns)]};energie;{_day(n)};"
                f"1.{n % 1000:03d},{n % 100:02d};{30 + n % 90};geen\n"
            )
    with acties.open("w", encoding="utf-8") as handle:
        handle.write("signaal_id;bsn;datum;actie\n")
        for n in range(half):
            handle.write(f"VS-{n:08d};{bsns[n % len(bsns)]};{_day(n)};contactpoging\n")
    return signalen, acties


_IWMO_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<wmo301:Bericht xmlns:wmo301="http://www.istandaarden.nl/iwmo/3_2/wmo301/schema" \
xmlns:iwmo="http://www.istandaarden.nl/iwmo/3_2/basisschema/schema">
  <wmo301:Header>
    <wmo301:BerichtCode>414</wmo301:BerichtCode>
    <wmo301:BerichtVersie>3</wmo301:BerichtVersie>
    <wmo301:BerichtSubversie>2</wmo301:BerichtSubversie>
    <wmo301:Afzender>9999</wmo301:Afzender>
    <wmo301:Ontvanger>98765432</wmo301:Ontvanger>
    <wmo301:BerichtIdentificatie>
      <iwmo:Identificatie>BENCH{m:07d}</iwmo:Identificatie>
      <iwmo:Dagtekening>2026-01-08</iwmo:Dagtekening>
    </wmo301:BerichtIdentificatie>
    <wmo301:XsdVersie>
      <iwmo:BasisschemaXsdVersie>1.0.0</iwmo:BasisschemaXsdVersie>
      <iwmo:BerichtXsdVersie>1.0.0</iwmo:BerichtXsdVersie>
    </wmo301:XsdVersie>
  </wmo301:Header>
  <wmo301:Client>
    <wmo301:Bsn>{bsn}</wmo301:Bsn>
    <wmo301:Geboortedatum><iwmo:Datum>1970-01-01</iwmo:Datum></wmo301:Geboortedatum>
    <wmo301:Geslacht>0</wmo301:Geslacht>
    <wmo301:Naam><iwmo:Geslachtsnaam><iwmo:Achternaam>Synthetisch</iwmo:Achternaam>
    </iwmo:Geslachtsnaam><iwmo:Voorletters>S</iwmo:Voorletters><iwmo:NaamGebruik>1</iwmo:NaamGebruik>
    </wmo301:Naam>
    <wmo301:Contactgegevens><wmo301:Contact><wmo301:Soort>01</wmo301:Soort></wmo301:Contact>
    </wmo301:Contactgegevens>
    <wmo301:ToegewezenProducten>
"""
_IWMO_PRODUCT = """      <wmo301:ToegewezenProduct>
        <wmo301:ToewijzingNummer>{nummer}</wmo301:ToewijzingNummer>
        <wmo301:Product><iwmo:Categorie>02</iwmo:Categorie><iwmo:Code>02A01</iwmo:Code></wmo301:Product>
        <wmo301:Toewijzingsdatum>{d}</wmo301:Toewijzingsdatum>
        <wmo301:Toewijzingstijd>09:00:00</wmo301:Toewijzingstijd>
        <wmo301:Ingangsdatum>{d}</wmo301:Ingangsdatum>
        <wmo301:Omvang><iwmo:Volume>4</iwmo:Volume><iwmo:Eenheid>04</iwmo:Eenheid><iwmo:Frequentie>2</iwmo:Frequentie></wmo301:Omvang>
        <wmo301:Commentaar>Synthetische toelichting.</wmo301:Commentaar>
      </wmo301:ToegewezenProduct>
"""
_IWMO_TAIL = """    </wmo301:ToegewezenProducten>
  </wmo301:Client>
</wmo301:Bericht>
"""


def write_iwmo(directory: Path, products: int, per_file: int = 10) -> Path:
    """WMO301 messages with ``per_file`` products each, ``products`` in all."""
    directory.mkdir(parents=True, exist_ok=True)
    bsns = synthetic_bsns()
    for m, start in enumerate(range(0, products, per_file)):
        parts = [_IWMO_HEAD.format(m=m, bsn=bsns[m % len(bsns)])]
        for n in range(start, min(start + per_file, products)):
            parts.append(_IWMO_PRODUCT.format(nummer=f"{n:08d}", d=_day(n)))
        parts.append(_IWMO_TAIL)
        (directory / f"WMO301_{m:07d}.xml").write_text("".join(parts), encoding="utf-8")
    return directory


def wijkteam_events(count: int, source: str) -> Iterator[dict[str, Any]]:
    bsns = synthetic_bsns()
    for n in range(count):
        yield {
            "specversion": "1.0",
            "id": f"wt-{n:08d}",
            "source": source,
            "type": "nl.wijkteams.casussen.geopend",
            "time": "2026-01-10T09:05:00+01:00",
            "data": {"bsn": bsns[n % len(bsns)], "datum": _day(n), "casus_id": f"W-{n}"},
        }


def outbox_events(count: int, source: str) -> Iterator[dict[str, Any]]:
    bsns = synthetic_bsns()
    for n in range(count):
        yield {
            "specversion": "1.0",
            "id": f"zs-{n:08d}",
            "source": source,
            "type": "nl.wmo.meldingen.ontvangen",
            "data": {"bsn": bsns[n % len(bsns)], "datum": _day(n)},
        }


def write_jsonlines(path: Path, events: Iterator[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    return path


# ---------------------------------------------------------------- the benchmark


def _inputs(directory: Path, records: int, source: str) -> dict[str, tuple[str, str]]:
    """Adapter → (label, spec) with ``records`` records each."""
    signalen, acties = write_vroegsignalering(directory, records)
    return {
        "sociale-dienst": (
            "CSV, 12 columns",
            str(write_sociale_dienst(directory / "export.csv", records)),
        ),
        "vroegsignalering": ("2 CSV files", f"{signalen},{acties}"),
        "iwmo": (
            f"{records // 10} WMO301 files × 10 products",
            str(write_iwmo(directory / "iwmo", records)),
        ),
        "wijkteam": (
            "CloudEvents JSON lines",
            str(write_jsonlines(directory / "events.jsonl", wijkteam_events(records, source))),
        ),
    }


def run(records: int, batch_size: int, only: Sequence[str]) -> list[tuple[str, str, int, float]]:
    from schakel.adapter_cmd import build_runner
    from schakel.broker import EmbeddedBroker
    from schakel.topics import ensure_topics
    from schemas.settings import Settings

    results = []
    with tempfile.TemporaryDirectory(prefix="schakel-bench-") as tmp, EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=4)
        directory = Path(tmp)
        settings = Settings(
            kafka_bootstrap=broker.bootstrap,
            data_dir=directory / "var",
            pseudonym_key="benchmark-key-0123456789abcdef0123456",
            metrics_port=0,
        )
        inputs = _inputs(directory, records, settings.source_urn("wijkteam"))
        for name, (label, spec) in inputs.items():
            if only and name not in only:
                continue
            runner = build_runner(
                name, spec, settings, bootstrap=broker.bootstrap, batch_size=batch_size
            )
            try:
                started = time.perf_counter()
                stats = runner.run_once()
                elapsed = time.perf_counter() - started
            finally:
                runner.publisher.close()
                runner.close()
            if stats.published != records:
                raise SystemExit(
                    f"{name}: published {stats.published} of {records} ({stats.by_reason})"
                )
            results.append((name, label, stats.published, elapsed))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--only", default="", help="comma-separated adapter names")
    args = parser.parse_args(argv)
    only = [n for n in args.only.split(",") if n]
    results = run(args.records, args.batch_size, only)
    print(
        f"\none-shot runs, {args.records} records each, batch {args.batch_size}, embedded broker\n"
    )
    print("| adapter | input | records | seconds | records/s |")
    print("|---|---|---:|---:|---:|")
    for name, label, count, elapsed in results:
        print(f"| {name} | {label} | {count} | {elapsed:.1f} | {count / elapsed:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
