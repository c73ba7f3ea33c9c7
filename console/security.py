"""The guard every request of the console passes (pure ASGI middleware).

* **Host**: only the names the server answers to (127.0.0.1, localhost, [::1] and the
  `--host` given) — a page elsewhere cannot reach the console through DNS rebinding.
* **Cross-site POSTs refused**: a state-changing request (anything but GET, HEAD, OPTIONS)
  whose `Sec-Fetch-Site` is neither `same-origin` nor `none`, or whose `Origin` is not this
  server's, gets 403 before any handler runs. Browsers send both on every cross-site POST
  (a form on another site, a `fetch`); curl and scripts send neither and are served.
* **Body size**: a body larger than the limit of its path is refused with 413, whether
  `Content-Length` says so or the bytes keep coming (the body is read, up to the limit,
  before the handler runs).
* **Headers** on every response: a Content-Security-Policy that allows scripts from this
  server only (`script-src 'self'`: no inline script, no `eval`), no framing, no referrer,
  `nosniff`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOCAL_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}

MAX_BODY = 2_000_000  # a case, as JSON or a form (a case file may be 8 MB; a form is small)
MAX_UPLOAD = 64_000_000  # /batch: a table of cases


def host_name(host: str) -> str:
    """`example:8000` → `example`; `[::1]:8000` → `[::1]`."""
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """Wraps the application: see the module docstring."""

    def __init__(self, app: ASGIApp, hosts: set[str] | None = None,
                 max_body: int = MAX_BODY, max_upload: int = MAX_UPLOAD,
                 upload_paths: tuple[str, ...] = ("/batch",)):
        self.app = app
        self.hosts = {h.lower() for h in (hosts or set())} | LOCAL_NAMES
        self.max_body, self.max_upload = max_body, max_upload
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in HEADERS if k not in have]]
            await send(message)

        host = headers.get("host", "")
        if host_name(host).lower() not in self.hosts:
            await self.refuse(send_with_headers, path, 400, "http.bad-host",
                              f"this console does not answer to the host `{host[:80]}`",
                              "open it at http://127.0.0.1:PORT/ (or the --host it was "
                              "started with)")
            return
        method = scope.get("method", "GET")
        if method not in SAFE_METHODS:
            why = self.cross_site(headers, scope)
            if why:
                await self.refuse(send_with_headers, path, 403, "http.cross-site", why,
                                  "POST from the console's own pages, or without a browser "
                                  "(curl, scripts)")
                return
            limit = self.max_upload if path.startswith(self.upload_paths) else self.max_body
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                await self.too_large(send_with_headers, path, limit)
                return
            body = bytearray()
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = bool(message.get("more_body"))
                if len(body) > limit:
                    await self.too_large(send_with_headers, path, limit)
                    return
            done = False

            async def replay() -> Message:
                nonlocal done
                if not done:
                    done = True
                    return {"type": "http.request", "body": bytes(body), "more_body": False}
                return await receive()

            await self.app(scope, replay, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def cross_site(headers: dict[str, str], scope: Scope) -> str | None:
        """Why a state-changing request is refused as cross-site (None: it is not)."""
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return f"a cross-site request (Sec-Fetch-Site: {site[:40]}) may not POST here"
        origin = headers.get("origin")
        if origin is not None:
            scheme = scope.get("scheme", "http")
            if origin != f"{scheme}://{headers.get('host', '')}":
                return f"a request from another origin (`{origin[:80]}`) may not POST here"
        return None

    async def too_large(self, send: Send, path: str, limit: int) -> None:
        await self.refuse(send, path, 413, "http.too-large",
                          f"the request body is larger than {limit:,} bytes",
                          "a case is a few kilobytes; send a smaller body")

    @staticmethod
    async def refuse(send: Send, path: str, status: int, code: str, message: str,
                     hint: str) -> None:
        """An error answer, as JSON for the API (`diagnostics`, as every API error) and as
        plain text for the pages."""
        if path.startswith("/api/"):
            body = json.dumps({"status": status, "diagnostics": [
                {"code": code, "message": message, "hint": hint, "severity": "error",
                 "span": None, "related": []}], "text": f"error[{code}]: {message}\n"
                f"  hint: {hint}"}, ensure_ascii=False, indent=2).encode()
            ctype = b"application/json"
        else:
            body = f"error[{code}]: {message}\nhint: {hint}\n".encode()
            ctype = b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
