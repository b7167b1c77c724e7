"""``/functions/v1/<name>``: the project's Python HTTP functions, mounted like Supabase's edge runtime.

Each URL name maps to a functions-framework target in ``functions/main.py``; its Flask app is built
lazily with ``functions_framework.create_app`` and rebuilt when ``main.py`` changes. The request
reaches the function unchanged (no API-key check: Supabase's gateway does not check one for
functions either), with ``/functions/v1/<name>`` moved into SCRIPT_NAME so the function sees ``/``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack.gateway.functions")

#: URL name → functions-framework target.
TARGETS = {
    "publish-prompt": "publish_prompt",
    "usage-events": "usage_events",
    "access-check": "access_check",
    "cohort-sync": "cohort_sync",
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Functions:
    """Lazily built functions-framework apps, one per target."""

    def __init__(self, source: Path, targets: dict[str, str] | None = None) -> None:
        self.source = source
        self.targets = dict(TARGETS if targets is None else targets)
        self._apps: dict[str, WSGIApp] = {}
        self._mtime: float | None = None
        self._lock = threading.Lock()

    def app_for(self, url_name: str) -> WSGIApp | None:
        """The WSGI app serving ``url_name``, or None when there is no such function (yet)."""
        target = self.targets.get(url_name)
        if target is None or not self.source.exists():
            return None
        mtime = self.source.stat().st_mtime
        with self._lock:
            if mtime != self._mtime:
                self._apps.clear()
                self._mtime = mtime
            app = self._apps.get(target)
            if app is None:
                app = self._build(target)
                if app is not None:
                    self._apps[target] = app
            return app

    def _build(self, target: str) -> WSGIApp | None:
        import sys

        import functions_framework
        from functions_framework.exceptions import MissingTargetException

        root = str(self.source.resolve().parent.parent)  # so `import functions.x` works in main.py
        if root not in sys.path:
            sys.path.insert(0, root)

        try:
            return functions_framework.create_app(target=target, source=str(self.source),
                                                  signature_type="http")
        except MissingTargetException:
            log.info("functions/main.py has no target %s yet", target)
            return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any],
                 url_name: str, rest: str) -> Iterable[bytes]:
        """Dispatch one request to the function (path rewritten so the function sees ``rest``)."""
        try:
            app = self.app_for(url_name)
        except Exception:  # noqa: BLE001 - a broken main.py must not take the gateway down
            log.exception("could not load functions/main.py")
            return _error(start_response, "500 Internal Server Error", "function_load_failed",
                          "functions/main.py failed to load; see the gateway log")
        if app is None:
            return _error(start_response, "404 Not Found", "not_found",
                          f"Function not found: {url_name}")
        environ = dict(environ)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/functions/v1/{url_name}"
        environ["PATH_INFO"] = rest or "/"
        return app(environ, start_response)


def _error(start_response: Callable[..., Any], status: str, code: str, message: str) -> Iterable[bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def default_source() -> Path:
    """``functions/main.py`` of the project (``FUNCTIONS_SOURCE`` overrides)."""
    from devstack import settings

    return Path(os.environ.get("FUNCTIONS_SOURCE", settings.ROOT / "functions" / "main.py"))
