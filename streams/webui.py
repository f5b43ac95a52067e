"""The read-only web page for case coordinators, served by the worker: ``/`` is
``streams/web/index.html``; ``/web/<name>`` its script and style sheet (only files named in
:data:`ASSETS`). The page talks to the API with the token and purpose the user enters; it
holds no data of its own and keeps the token only in memory.

Every response carries a strict Content-Security-Policy (scripts and styles from this origin
only, no inline code, no framing) and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from pathlib import Path

import faust
from faust.web import Request, Response, View

WEB_DIR = Path(__file__).parent / "web"

ASSETS = {
    "app.js": "application/javascript",
    "style.css": "text/css",
}
"""Files under ``/web/`` and their content types (served as UTF-8)."""

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Security headers of every page response."""


def register_ui(app: faust.App) -> None:
    """Serve the page at ``/`` and its assets at ``/web/<name>``."""

    @app.page("/")
    class Index(View):
        """The page."""

        async def get(self, request: Request) -> Response:
            """``index.html`` with the security headers."""
            page = WEB_DIR / "index.html"
            if not page.exists():
                return self.json({"fout": "webpagina: niet geïnstalleerd"}, status=404)
            return self.html(page.read_text(encoding="utf-8"), headers=dict(HEADERS))

    @app.page("/web/{name}")
    class Asset(View):
        """The page's script and style sheet."""

        async def get(self, request: Request, name: str) -> Response:
            """One file of :data:`ASSETS`; 404 for anything else."""
            content_type = ASSETS.get(name)
            path = WEB_DIR / name
            if content_type is None or not path.is_file():
                return self.json({"fout": "bestand: niet gevonden"}, status=404)
            return self.text(
                path.read_text(encoding="utf-8"), content_type=content_type, headers=dict(HEADERS)
            )
