"""The read-only web page for case coordinators, served by the worker at ``/`` (static files
from ``streams/web/``; the page talks to the API with the token and purpose the user enters)."""

from __future__ import annotations

from pathlib import Path

import faust
from faust.web import Request, Response, View

WEB_DIR = Path(__file__).parent / "web"


def register_ui(app: faust.App) -> None:
    """Serve ``streams/web/index.html`` at ``/``."""

    @app.page("/")
    class Index(View):
        async def get(self, request: Request) -> Response:
            page = WEB_DIR / "index.html"
            if not page.exists():
                return self.text("web page not installed", status=404)
            return self.html(page.read_text(encoding="utf-8"))
