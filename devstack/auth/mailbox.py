"""The local mailbox: e-mails the Auth stand-in "sends", kept in memory, as the Supabase CLI's
Mailpit (formerly Inbucket) keeps them.

Served on the API port, without an API key (as Mailpit is):
- ``GET /_devstack/mailbox``                                 an HTML page, newest first, links clickable
- ``GET /_devstack/mailbox/api/v1/messages``                 Mailpit-shaped JSON list (``messages``, ``total``)
- ``GET /_devstack/mailbox/api/v1/search?query=to:<addr>``   the same, only messages to ``<addr>``
- ``GET /_devstack/mailbox/api/v1/message/<ID>``             one message with ``Text`` and ``HTML``
  (``<ID>`` = ``latest`` for the newest)
- ``DELETE /_devstack/mailbox/api/v1/messages``              empty the mailbox

The newest 500 messages are kept; a restart of the API empties the mailbox.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

PREFIX = "/_devstack/mailbox"
MAX_MESSAGES = 500
SENDER = {"Name": "Admin", "Address": "admin@email.com"}  # the CLI's default [local_smtp] sender
_LINK = re.compile(r'href="([^"]+)"')


@dataclass(frozen=True)
class Message:
    id: str
    to: str
    subject: str
    created: dt.datetime
    text: str
    html: str

    def summary(self) -> dict[str, Any]:
        return {"ID": self.id, "MessageID": f"{self.id}@devstack", "Read": False, "From": SENDER,
                "To": [{"Name": "", "Address": self.to}], "Subject": self.subject,
                "Created": self.created.isoformat().replace("+00:00", "Z"),
                "Snippet": self.text[:200], "Size": len(self.html.encode())}

    def full(self) -> dict[str, Any]:
        return {**self.summary(), "Date": self.summary()["Created"], "Text": self.text, "HTML": self.html}


class Mailbox:
    """A thread-safe, bounded, in-memory store of sent messages, with a small Mailpit-like API."""

    def __init__(self, max_messages: int = MAX_MESSAGES) -> None:
        self._messages: deque[Message] = deque(maxlen=max_messages)
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, text: str, html_body: str) -> Message:
        message = Message(uuid.uuid4().hex, to, subject, dt.datetime.now(dt.UTC), text, html_body)
        with self._lock:
            self._messages.append(message)
        return message

    def messages(self, to: str | None = None) -> list[Message]:
        """Newest first; only those to ``to`` (case-insensitive) when given."""
        with self._lock:
            items = list(reversed(self._messages))
        if to is not None:
            items = [m for m in items if m.to.lower() == to.strip().lower()]
        return items

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        sub = request.path[len(PREFIX):].rstrip("/")
        if sub == "" and request.method in ("GET", "HEAD"):
            return Response(self._page(), content_type="text/html; charset=utf-8")
        if sub == "/api/v1/messages" and request.method == "GET":
            return self._list(self.messages())
        if sub == "/api/v1/messages" and request.method == "DELETE":
            with self._lock:
                self._messages.clear()
            return Response("ok", content_type="text/plain")
        if sub == "/api/v1/search" and request.method == "GET":
            query = request.args.get("query", "")
            if not query.startswith("to:"):
                return _json({"error": "only `query=to:<address>` is supported"}, 400)
            return self._list(self.messages(query[3:]))
        if sub.startswith("/api/v1/message/") and request.method == "GET":
            wanted = sub[len("/api/v1/message/"):]
            items = self.messages()
            found = items[:1] if wanted == "latest" else [m for m in items if m.id == wanted]
            if not found:
                return _json({"error": "message not found"}, 404)
            return _json(found[0].full())
        return _json({"error": "not found"}, 404)

    @staticmethod
    def _list(items: list[Message]) -> Response:
        return _json({"total": len(items), "count": len(items), "start": 0,
                      "messages": [m.summary() for m in items]})

    def _page(self) -> str:
        rows = []
        for m in self.messages():
            links = "".join(f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>'
                            for u in links_in(m.html))
            rows.append(f"<section><h3>{html.escape(m.subject)}</h3><p>To: {html.escape(m.to)} · "
                        f"{m.created:%Y-%m-%d %H:%M:%S} UTC</p><pre>{html.escape(m.text)}</pre>"
                        f"<ul>{links}</ul></section><hr>")
        body = "".join(rows) or "<p>No messages yet.</p>"
        return ("<!doctype html><html><head><meta charset='utf-8'><title>Local mailbox</title></head>"
                "<body><h1>Local mailbox (devstack Auth stand-in)</h1>" + body + "</body></html>")


def links_in(html_body: str) -> list[str]:
    """The ``href`` targets of a message body (unescaped)."""
    return [html.unescape(u) for u in _LINK.findall(html_body)]


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")
