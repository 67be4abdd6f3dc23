"""GraphiQL on GET /graphql, with every file it loads served by Carebook itself.

Strawberry's page loads React and GraphiQL from a public CDN; behind a firewall it stays at
"Loading...". This page loads the copies under ``static/graphiql/`` (written by
``scripts/vendor_graphiql`` from pinned npm packages) from ``ASSETS_PATH``, with their
Subresource Integrity hashes, and a Content-Security-Policy that lets it load nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from html import escape
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

ASSETS_PATH = "/graphiql/assets"
ASSETS_DIRECTORY = Path(__file__).parent / "static" / "graphiql"
_BOOT = "carebook-graphiql.js"
_STYLES = ("graphiql-3.8.3/graphiql.min.css",)
# In load order: GraphiQL's bundle expects React and ReactDOM as globals; ours starts it.
_SCRIPTS = (
    "react-18.2.0/react.production.min.js",
    "react-dom-18.2.0/react-dom.production.min.js",
    "graphiql-3.8.3/graphiql.min.js",
)
# Vendored files change only with their folder's version; ours is addressed by its digest.
# Either way an address never names two contents, so browsers may keep a copy for good.
IMMUTABLE = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}
# React sets inline styles and GraphiQL's CSS carries its fonts as data: URLs; scripts and
# requests go to this server only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def _integrity() -> dict[str, str]:
    """Each served file's sha384 (SRI form): the vendored ones as the script recorded them."""
    recorded: dict[str, str] = json.loads((ASSETS_DIRECTORY / "assets.json").read_text())
    digest = hashlib.sha384((ASSETS_DIRECTORY / _BOOT).read_bytes()).digest()
    return {**recorded, _BOOT: f"sha384-{base64.b64encode(digest).decode()}"}


def _address(name: str, integrity: dict[str, str]) -> str:
    if name == _BOOT:
        version = hashlib.sha256(integrity[name].encode()).hexdigest()[:16]
        return f"{ASSETS_PATH}/{name}?v={version}"
    return f"{ASSETS_PATH}/{name}"


def _page() -> str:
    integrity = _integrity()
    styles = "".join(
        f'<link rel="stylesheet" href="{escape(_address(name, integrity))}" '
        f'integrity="{integrity[name]}">'
        for name in _STYLES
    )
    scripts = "".join(
        f'<script src="{escape(_address(name, integrity))}" integrity="{integrity[name]}"></script>'
        for name in (*_SCRIPTS, _BOOT)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Carebook GraphiQL</title>"
        f"{styles}"
        "<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style>"
        '</head><body><div id="graphiql">Loading...</div>'
        f"{scripts}</body></html>"
    )


PAGE = _page()


def page_response() -> Response:
    """The GraphiQL page (GET /graphql from a browser, outside production)."""
    return HTMLResponse(
        PAGE,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


class GraphiQLAssets(StaticFiles):
    """The files under static/graphiql/, marked immutable (see IMMUTABLE), with their types
    named here rather than guessed from the machine's MIME table."""

    def __init__(self) -> None:
        super().__init__(directory=ASSETS_DIRECTORY)

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            media_type=_MEDIA_TYPES.get(Path(full_path).suffix, "text/plain"),
            # On a 304 too (a revalidation), or it would be marked no-store from then on.
            headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def asset_routes(*, enabled: bool) -> list[BaseRoute]:
    """The route of GraphiQL's files under ASSETS_PATH; none when GraphiQL is not served."""
    return [Mount(ASSETS_PATH, GraphiQLAssets())] if enabled else []
