"""Generate :mod:`schemas.iwmo_codes` from the official iWmo XSDs.

``python -m schemas.iwmo_codegen XSD_DIR > schemas/iwmo_codes.py`` reads
``XSD_DIR/basisschema.xsd`` (the code lists: every ``xs:enumeration`` of the simple types in
:data:`CODE_LISTS`, with its documentation) and ``XSD_DIR/WMO3nn.xsd`` (per message: the fixed
BerichtCode and the ``BerichtXsd``/``BasisschemaXsd`` min and max versions of the XSD's
``appinfo``) and prints the module. The iWmo adapter and the catalogue models
(:mod:`schemas.models`: ``reden_beeindiging`` of every source) import the generated module
instead of parsing XSDs at run time; ``tests/unit/schemas/test_iwmo_codes.py`` checks that the
committed module equals what this prints for the official XSDs in ``tests/fixtures/iwmo-3.2/xsd``.

The XSDs are read with defusedxml (no DTD, no entities, no network).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

XS = "{http://www.w3.org/2001/XMLSchema}"
BASIS_NS = "{http://www.istandaarden.nl/iwmo/3_2/basisschema/schema}"

CODE_LISTS = (
    "LDT_ProductCategorie",
    "LDT_RedenBeeindiging",
    "LDT_RedenWijziging",
    "LDT_StatusAanlevering",
)
"""The basisschema code lists of the elements the iWmo adapter reads."""

MESSAGES = ("WMO301", "WMO305", "WMO307", "WMO315", "WMO317", "WMO319", "WMO323")
"""The message XSDs of the release (the supported ones and the others of the same inbox)."""

_VERSIONS = (
    "BerichtXsdMinVersie",
    "BerichtXsdMaxVersie",
    "BasisschemaXsdMinVersie",
    "BasisschemaXsdMaxVersie",
)


def _parse(path: Path) -> Element:
    root: Element = SafeET.parse(
        str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True
    ).getroot()
    return root


def code_lists(basisschema: Path) -> dict[str, dict[str, str]]:
    """Code list name → {code: documentation} of :data:`CODE_LISTS`, in XSD order."""
    root = _parse(basisschema)
    out: dict[str, dict[str, str]] = {}
    for simple in root.iter(f"{XS}simpleType"):
        name = simple.get("name", "")
        if name not in CODE_LISTS:
            continue
        codes: dict[str, str] = {}
        for enum in simple.iter(f"{XS}enumeration"):
            doc = enum.find(f"{XS}annotation/{XS}documentation")
            codes[enum.get("value", "")] = (
                " ".join((doc.text or "").split()) if doc is not None else ""
            )
        out[name] = codes
    missing = sorted(set(CODE_LISTS) - set(out))
    if missing:
        raise ValueError(f"{basisschema}: no simpleType {', '.join(missing)}")
    return {name: out[name] for name in CODE_LISTS}


def message_info(xsd: Path) -> tuple[str, str, str, str, str, str]:
    """(release, BerichtCode, BerichtXsd min, max, BasisschemaXsd min, max) of one message XSD."""
    root = _parse(xsd)
    appinfo = root.find(f"{XS}annotation/{XS}appinfo")
    if appinfo is None:
        raise ValueError(f"{xsd}: no xs:annotation/xs:appinfo")
    release = (appinfo.findtext(f"{BASIS_NS}release") or "").strip()
    versions = [(appinfo.findtext(f"{BASIS_NS}{name}") or "").strip() for name in _VERSIONS]
    code = ""
    for element in root.iter(f"{XS}element"):
        if element.get("name") == "BerichtCode":
            pattern = element.find(f".//{XS}pattern")
            code = pattern.get("value", "") if pattern is not None else ""
            break
    if not release or not code or not all(versions):
        raise ValueError(f"{xsd}: release, BerichtCode or XsdVersie bounds missing")
    return (release, code, *versions)  # type: ignore[return-value]  # six strings, checked above


def _q(text: str) -> str:
    """A double-quoted Python string literal (JSON string syntax is valid Python)."""
    return json.dumps(text, ensure_ascii=False)


def render(xsd_dir: Path) -> str:
    """The text of :mod:`schemas.iwmo_codes` for the XSDs in ``xsd_dir``."""
    lists = code_lists(xsd_dir / "basisschema.xsd")
    infos = {name: message_info(xsd_dir / f"{name}.xsd") for name in MESSAGES}
    releases = {info[0] for info in infos.values()}
    if len(releases) != 1:
        raise ValueError(f"{xsd_dir}: message XSDs of more than one release")
    (release,) = releases
    lines = [
        '"""iWmo code lists and message versions, generated from the official iWmo XSDs by',
        "``python -m schemas.iwmo_codegen tests/fixtures/iwmo-3.2/xsd`` — do not edit by hand",
        "(``tests/unit/schemas/test_iwmo_codes.py`` checks that this equals the XSDs).",
        "",
        "``CODE_LISTS``: basisschema simple type → {code: its documentation in the XSD}.",
        "``MESSAGES``: message → its BerichtCode and the XsdVersie bounds of its XSD's appinfo.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import NamedTuple",
        "",
        "",
        "class MessageXsd(NamedTuple):",
        '    """What one message XSD fixes: its BerichtCode and accepted XsdVersie bounds."""',
        "",
        "    berichtcode: str",
        "    bericht_xsd_min: str",
        "    bericht_xsd_max: str",
        "    basisschema_xsd_min: str",
        "    basisschema_xsd_max: str",
        "",
        "",
        f"RELEASE = {_q(release)}",
        "",
        "CODE_LISTS: dict[str, dict[str, str]] = {",
    ]
    for name, codes in lists.items():
        lines.append(f"    {_q(name)}: {{")
        lines += [f"        {_q(code)}: {_q(doc)}," for code, doc in codes.items()]
        lines.append("    },")
    lines += ["}", "", "MESSAGES: dict[str, MessageXsd] = {"]
    for name, (_, code, *versions) in infos.items():
        args = ", ".join(_q(v) for v in (code, *versions))
        lines.append(f"    {_q(name)}: MessageXsd({args}),")
    lines += ["}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m schemas.iwmo_codegen XSD_DIR > schemas/iwmo_codes.py",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(render(Path(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
