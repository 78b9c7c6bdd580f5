"""``python -m sim dashboard [--host HOST] [--port PORT] [--allow-remote]``: serve the dashboard page.

The server listens on 127.0.0.1 (this machine only) unless told otherwise; listening on any other
address exposes the page, which can run simulations, to the network, so it needs ``--allow-remote``
and prints a warning. Every request must name the server (``Host``) and, from a browser, come from
its own page (``Origin``): :mod:`sim.dashboard.guard` refuses the rest, so a web page elsewhere cannot
reach a dashboard on loopback (DNS rebinding, cross-site websockets). ``--allowed-host`` adds a name
clients use to reach a remote dashboard. Solara's telemetry and version check are off: the server
contacts nothing. The dashboard's libraries (Solara, through Mesa's ``viz`` extra) come with the
``dashboard`` extra; without them the verb says how to install it and exits with status 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "INSTALL_HINT", "is_local", "main", "parse", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
INSTALL_HINT = 'error: the dashboard needs the "dashboard" extra: pip install -e ".[dashboard]"'
APP = "sim.dashboard.app"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit status 2, as every sim verb
        print(f"error: dashboard: {message} (python -m sim dashboard --help)", file=sys.stderr)
        raise SystemExit(2)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, 65535], got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, 65535], got {port}")
    return port


def parse(args: list[str]) -> argparse.Namespace:
    """The verb's options (``--host``, ``--port``, ``--allow-remote``); a bad one exits with status 2."""
    parser = _Parser(prog="python -m sim dashboard",
                     description="Serve the interactive dashboard (Mesa SolaraViz) in the browser.")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a --host other than a loopback address (exposes the page to the network)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME[:PORT]",
                        help="a further name clients use to reach the server (checked against each request's Host "
                             "and Origin); repeatable")
    return parser.parse_args(args)


def is_local(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(host: str, port: int, allowed: list[str]) -> None:
    """Serve the page with Solara's Starlette app behind :class:`~sim.dashboard.guard.HostOriginGuard`.

    Solara's production mode, with its telemetry and version check off; uvicorn logs warnings only.
    """
    import warnings

    import uvicorn

    # Solara warns, per page load, that it falls back to SameSite=lax cookies over plain http: the fallback
    # is what a loopback dashboard wants, so the ten lines say nothing to its user.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
    os.environ["SOLARA_APP"] = APP
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    from solara.server import settings

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    from solara.server.starlette import app

    from sim.dashboard.guard import HostOriginGuard, allowed_hosts

    guarded = HostOriginGuard(app, allowed_hosts(host, port, allowed), port)
    uvicorn.run(guarded, host=host, port=port, log_level="warning")


def main(args: list[str]) -> int:
    """Check the options and the extra, print the URL, then serve until interrupted.

    Returns:
        2 for a bad option, a non-local host without ``--allow-remote``, or the extra missing.
    """
    options = parse(args)
    if not is_local(options.host):
        if not options.allow_remote:
            print(f"error: dashboard: --host {options.host} is not a loopback address; the page would be open to "
                  f"the network. Add --allow-remote to do so on purpose.", file=sys.stderr)
            return 2
        print(f"warning: the dashboard listens on {options.host}: anyone who can reach this machine on port "
              f"{options.port} can use it (no login).", file=sys.stderr)
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    shown = f"[{options.host}]" if ":" in options.host else options.host
    print(f"dashboard: http://{shown}:{options.port}/ (Ctrl-C stops it)", flush=True)
    sys.stderr.flush()
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        serve(options.host, options.port, options.allowed_host)
    except KeyboardInterrupt:
        pass
    return 0
