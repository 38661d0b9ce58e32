"""``dogtag serve``: the web workbench."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--database", "url", metavar="URL", default=None,
              help="Database URL; default $DOGTAG_DATABASE_URL or the SQLite file in your data directory.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (they share sessions and failed-login counts through the registry; "
                   "more than one needs a fixed DOGTAG_SECRET_KEY).")
def serve(host: str, port: int, url: str | None, workers: int) -> None:
    """Serve the workbench (pages, JSON twins, API docs at /docs) over HTTP.

    Put it behind a TLS proxy for use beyond this machine, and set DOGTAG_SECRET_KEY,
    DOGTAG_HTTPS_ONLY=1 and DOGTAG_TRUSTED_PROXIES (the proxy's address) there: X-Forwarded-For is
    believed only from the addresses it names. Refuses to start without the registry's ledger key
    (DOGTAG_LEDGER_KEY_FILE; checked against the chain heads).

    \b
    Examples:
      dogtag init --database sqlite:///registry.sqlite
      DOGTAG_DATABASE_URL=sqlite:///registry.sqlite dogtag serve --host 127.0.0.1 --port 8765
    """
    import os

    import uvicorn

    from dogtag.cli.warn import release_warnings
    from dogtag.errors import DogtagError
    from dogtag.registry import ledger
    from dogtag.registry.engine import database_url, is_initialised, make_engine

    if url:
        os.environ["DOGTAG_DATABASE_URL"] = url
    engine = make_engine(url)
    if not is_initialised(engine):
        raise DogtagError(f"no registry at {database_url(url)}; run `dogtag init` first")
    with engine.connect() as conn:
        ledger.check_key(conn)  # refuse to start without the registry's own ledger key
    engine.dispose()
    if workers > 1 and not os.environ.get("DOGTAG_SECRET_KEY"):
        raise DogtagError("set DOGTAG_SECRET_KEY when serving with several workers")
    click.echo(f"dogtag workbench on http://{host}:{port}/ (API docs at /docs)", err=True)
    release_warnings()  # a server shows its warnings as they come, in its log
    uvicorn.run("dogtag.web:app_from_env", factory=True, host=host, port=port, workers=workers,
                proxy_headers=False, log_level="info")  # the app reads X-Forwarded-For itself
