"""One parsed iWmo message: which kind it is, its header, and checked access to its elements.

Elements are matched on local name *and* namespace (the message namespace
``http://www.istandaarden.nl/iwmo/3_2/<msg>/schema`` or the basisschema namespace); every
other element is ignored. Values are checked against the XSD types and code lists of the
basisschema (:mod:`schemas.iwmo_codes`); a rejection names the element path and the rule
broken, never the value found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from xml.etree.ElementTree import Element

from adapters.exceptions import Rejection
from adapters.iwmo.versions import IDENTIFICATIE_WIDTH, XML_SPACE
from schemas import iwmo_codes as codes

NS_ROOT = "http://www.istandaarden.nl/iwmo/"
RELEASE = "3_2"
BASIS = f"{NS_ROOT}{RELEASE}/basisschema/schema"
_NS = re.compile(r"http://www\.istandaarden\.nl/iwmo/(\d+_\d+)/([A-Za-z0-9]+)/schema", re.ASCII)
_MESSAGE = re.compile(r"wmo\d{3}", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_VERSION = re.compile(r"(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})", re.ASCII)
_GEMEENTE = re.compile(r"\d{4}", re.ASCII)
_SMALL_NUMBER = re.compile(r"\d{1,2}", re.ASCII)
HEADER = "Bericht/Header"
CLIENT = "Bericht/Client"


@dataclass(frozen=True)
class MessageKind:
    """One message Schakel maps, and how its products map to an event type."""

    name: str
    products: str
    product: str
    event_type: str

    @property
    def code(self) -> str:
        """The BerichtCode the message XSD fixes."""
        return codes.MESSAGES[self.name].berichtcode

    @property
    def namespace(self) -> str:
        return f"{NS_ROOT}{RELEASE}/{self.name.lower()}/schema"


WMO301 = MessageKind(
    "WMO301", "ToegewezenProducten", "ToegewezenProduct", "nl.wmo.voorzieningen.toegewezen"
)
WMO305 = MessageKind("WMO305", "StartProducten", "StartProduct", "nl.wmo.voorzieningen.gestart")
WMO307 = MessageKind("WMO307", "StopProducten", "StopProduct", "nl.wmo.voorzieningen.gestopt")
KINDS = {kind.namespace: kind for kind in (WMO301, WMO305, WMO307)}


class ElementRejection(Rejection):
    """A problem at one element; ``path`` is its element path (``Bericht/Header/…``)."""

    def __init__(self, path: str, message: str, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.path = path


class ElementMissing(ElementRejection):
    """A required element is absent or empty."""

    def __init__(self, path: str, why: str = "") -> None:
        super().__init__(
            path, f"{path}: required element is missing or empty{why}", "missing-field"
        )


@dataclass(frozen=True)
class Skipped:
    """A message of the release that Schakel does not map (WMO315, 317, …): skipped."""

    name: str


def identify(root: Element) -> MessageKind | Skipped:
    """The kind of message ``root`` is; :class:`Rejection` (``wrong-version``) if it is not an
    iWmo 3.2 ``Bericht``, (``unsupported-message``) if it is no message of the standard."""
    space, _, local = (
        root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    )
    kind = KINDS.get(space)
    if kind is not None and local == "Bericht":
        return kind
    match = _NS.fullmatch(space)
    if local != "Bericht" or match is None:
        raise Rejection(
            "not an iWmo 3.2 message: expected root element Bericht in namespace "
            f"{NS_ROOT}{RELEASE}/wmo301/schema (or wmo305, wmo307, …)",
            reason="wrong-version",
        )
    release, msg = match.groups()
    if release != RELEASE:
        raise Rejection(
            f"iWmo release {release.replace('_', '.')} is not supported; only release 3.2 "
            f"(namespace {NS_ROOT}{RELEASE}/…/schema)",
            reason="wrong-version",
        )
    if _MESSAGE.fullmatch(msg):
        return Skipped(msg.upper())
    raise Rejection(
        "the namespace names no iWmo message (expected …/3_2/wmo<nnn>/schema)",
        reason="unsupported-message",
    )


def _version(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.fullmatch(text)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


class Message:
    """Checked, namespace-aware access to the elements of one parsed message."""

    def __init__(self, root: Element, kind: MessageKind) -> None:
        self.root = root
        self.kind = kind
        self._spaces = (kind.namespace, BASIS)

    def child(self, parent: Element | None, name: str, path: str) -> Element | None:
        """The child ``name`` of ``parent``, at element path ``path``, or ``None``.

        :class:`ElementRejection` (``invalid``) if there are more than one: every element
        Schakel reads occurs at most once in the XSD, and which of two is meant cannot be told
        (reading the first alone left a second products container or Client unread, neither
        published nor quarantined)."""
        if parent is None:
            return None
        found = [node for space in self._spaces for node in parent.findall(f"{{{space}}}{name}")]
        if len(found) > 1:
            raise ElementRejection(
                path,
                f"{path}: occurs more than once; the iWmo 3.2 XSD allows it once, and which "
                "one is meant cannot be told",
                "invalid",
            )
        return found[0] if found else None

    def children(self, parent: Element | None, name: str) -> list[Element]:
        if parent is None:
            return []
        out: list[Element] = []
        for space in self._spaces:
            out += parent.findall(f"{{{space}}}{name}")
        return out

    def text(self, parent: Element | None, names: str, base: str, *, required: bool = True) -> str:
        """Text of the descendant ``names`` (``A/B``) of ``parent`` at path ``base`` without
        the XML white space (space, tab, CR, LF) around it; ``""`` if absent and not
        ``required``. Only XML white space: a non-breaking or other Unicode space stays, so a
        date, number, code or BSN with one fails its check (XSD-invalid, rejected at its path),
        and an Identificatie (an xs:string that may hold any character) is read as sent."""
        node, path = parent, base
        for name in names.split("/"):
            path = f"{path}/{name}"
            node = self.child(node, name, path)
        value = (node.text or "").strip(XML_SPACE) if node is not None else ""
        if not value and required:
            raise ElementMissing(f"{base}/{names}")
        return value

    def date(self, parent: Element | None, name: str, base: str, *, required: bool = True) -> str:
        """An LDT_Datum (``YYYY-MM-DD``, an existing day) as its ISO text."""
        value = self.text(parent, name, base, required=required)
        if not value:
            return value
        try:
            if _DATE.fullmatch(value):
                date.fromisoformat(value)
                return value
        except ValueError:
            pass
        raise ElementRejection(
            f"{base}/{name}",
            f"{base}/{name}: not an existing date as YYYY-MM-DD (basisschema LDT_Datum)",
            "bad-date",
        )

    def code(
        self, parent: Element | None, name: str, base: str, code_list: str, *, required: bool = True
    ) -> str:
        """A code of the basisschema ``code_list`` (e.g. ``LDT_RedenBeeindiging``)."""
        value = self.text(parent, name, base, required=required)
        allowed = codes.CODE_LISTS[code_list]
        if value and value not in allowed:
            path = f"{base}/{name}"
            raise ElementRejection(
                path,
                f"{path}: not a code of the iWmo 3.2 code list {code_list.removeprefix('LDT_')} "
                f"(basisschema {code_list}: {', '.join(allowed)})",
                "unknown-value",
            )
        return value


@dataclass(frozen=True)
class Header:
    """What Schakel reads from a message header and the client."""

    afzender: str
    identificatie: str
    dagtekening: str
    gemeente: str
    """The municipality's gemeentecode: Afzender of a WMO301, Ontvanger of a WMO305/307."""
    bsn: str


def read_header(message: Message) -> Header:
    """Check the header (BerichtCode, release 3.2, XsdVersie bounds, identification) and read
    it with the client's BSN. Raises :class:`ElementRejection`. ``identificatie`` is the
    Identificatie as sent (any text of 1–12 characters, also one that could be a BSN: what a
    ``sequence`` shows of it is :func:`adapters.iwmo.versions.sequence_identificatie`)."""
    kind = message.kind
    head = message.child(message.root, "Header", HEADER)
    if head is None:
        raise ElementMissing(HEADER)
    if message.text(head, "BerichtCode", HEADER) != kind.code:
        raise ElementRejection(
            f"{HEADER}/BerichtCode",
            f"{HEADER}/BerichtCode: does not match the {kind.name} namespace "
            f"(expected {kind.code})",
            "unknown-value",
        )
    versie = message.text(head, "BerichtVersie", HEADER)
    subversie = message.text(head, "BerichtSubversie", HEADER)
    if (versie, subversie) != ("3", "2"):
        numbers = _SMALL_NUMBER.fullmatch(versie) and _SMALL_NUMBER.fullmatch(subversie)
        shown = f"{versie}.{subversie}" if numbers else "(not a number)"
        raise ElementRejection(
            f"{HEADER}/BerichtVersie",
            f"{HEADER}: BerichtVersie/BerichtSubversie {shown} is not supported; only iWmo "
            "release 3.2 (3/2)",
            "wrong-version",
        )
    _check_xsd_versions(message, head)
    afzender = message.text(head, "Afzender", HEADER)
    ontvanger = message.text(head, "Ontvanger", HEADER)
    gemeente, side = (afzender, "Afzender") if kind.name == "WMO301" else (ontvanger, "Ontvanger")
    if not _GEMEENTE.fullmatch(gemeente):
        raise ElementRejection(
            f"{HEADER}/{side}",
            f"{HEADER}/{side}: not a gemeentecode of four digits (basisschema LDT_Gemeente)",
            "invalid",
        )
    ident_path = "BerichtIdentificatie/Identificatie"
    identificatie = message.text(head, ident_path, HEADER)
    if len(identificatie) > IDENTIFICATIE_WIDTH:
        raise ElementRejection(
            f"{HEADER}/{ident_path}",
            f"{HEADER}/{ident_path}: longer than {IDENTIFICATIE_WIDTH} characters "
            "(basisschema LDT_IdentificatieBericht)",
            "invalid",
        )
    identificatie_node = message.child(
        head, "BerichtIdentificatie", f"{HEADER}/BerichtIdentificatie"
    )
    dagtekening = message.date(identificatie_node, "Dagtekening", f"{HEADER}/BerichtIdentificatie")
    client = message.child(message.root, "Client", CLIENT)
    if client is None:
        raise ElementMissing(CLIENT)
    return Header(
        afzender=afzender,
        identificatie=identificatie,
        dagtekening=dagtekening,
        gemeente=gemeente,
        bsn=message.text(client, "Bsn", CLIENT),
    )


def _check_xsd_versions(message: Message, head: Element) -> None:
    """``XsdVersie``: the message's BerichtXsdVersie and BasisschemaXsdVersie must lie within
    the Min/Max bounds of the release's XSD (its ``appinfo``)."""
    spec = codes.MESSAGES[message.kind.name]
    base = f"{HEADER}/XsdVersie"
    node = message.child(head, "XsdVersie", base)
    for name, low, high, what in (
        ("BerichtXsdVersie", spec.bericht_xsd_min, spec.bericht_xsd_max, message.kind.name),
        ("BasisschemaXsdVersie", spec.basisschema_xsd_min, spec.basisschema_xsd_max, "basisschema"),
    ):
        text = message.text(node, name, base)
        version = _version(text)
        path = f"{base}/{name}"
        if version is None:
            raise ElementRejection(
                path, f"{path}: not a version number n.n.n (basisschema LDT_Versie)", "invalid"
            )
        lo, hi = _version(low), _version(high)
        if lo is None or hi is None or not lo <= version <= hi:
            bounds = low if low == high else f"{low} to {high}"
            raise ElementRejection(
                path,
                f"{path}: {text} is not a version of the {what} XSD of iWmo {codes.RELEASE} "
                f"(accepted: {bounds}, the XSD's {name.replace('Versie', 'MinVersie')} to "
                f"{name.replace('Versie', 'MaxVersie')})",
                "wrong-version",
            )
