"""`yakkan serve`: the reviewer's console (`yakkan.console`), served by uvicorn."""

from __future__ import annotations

import click

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError


def run_serve(host: str, port: int, clauses: str | None) -> int:
    """Start the console on `host:port` (127.0.0.1 by default: only this machine reaches
    it) and serve until interrupted."""
    try:
        import uvicorn

        from yakkan.console.app import create_app
    except ImportError as e:  # pragma: no cover - dependencies of the package
        raise YakkanError([Diagnostic(code="serve.missing-dependency",
                                      message=f"the console needs {e.name}",
                                      hint="pip install yakkan (starlette, uvicorn, "
                                           "python-multipart)")]) from None
    if not 0 <= port <= 65535:
        raise YakkanError([Diagnostic(code="usage.bad-port",
                                      message=f"--port {port} is not a port (0–65535)")])
    app = create_app(clauses, hosts={host})
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"yakkan console on http://{shown}:{port}/ (Ctrl+C stops it)", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: --host {host} makes the console reachable from other "
                   "machines; it has no login", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    return 0
