"""What the terminal shows: the result on stdout, everything else (progress, logs, errors) on stderr.

* :func:`route_logs`: log lines (the progress of a sweep among them) go to stderr, so ``> summary.txt`` holds
  the summary alone; other libraries' INFO lines (Dask's cluster start-up, Mesa) are off unless
  ``run.verbose=true``.
* :func:`quiet_broken_pipe`: ``python -m sim --help | head -1`` ends quietly, as Unix tools do.
* :class:`UsageError`: a refused command line, one line.
* :func:`did_you_mean` and :func:`error_line`: an error is at most two lines, names the key, and suggests the
  known name closest to a misspelt one (:mod:`difflib`).

This module imports nothing from ``sim``, so every floor may use it.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sys
from collections.abc import Iterable

__all__ = ["STDERR", "THIRD_PARTY", "UsageError", "did_you_mean", "error_line", "quiet_broken_pipe", "route_logs"]

# loggers of libraries whose INFO lines say nothing a user of a run needs
THIRD_PARTY = ("distributed", "dask", "bokeh", "tornado", "asyncio", "MESA", "mesa", "matplotlib", "PIL", "fsspec")
MAX_CHARS = 400  # an error line longer than this has its list of choices cut


class UsageError(Exception):
    """A one-line, user-facing error (a refused command line: exit status 2)."""


class _Stderr:
    """``sys.stderr`` as it is at each write (a handler bound to the object itself would keep writing to a
    stream that was replaced and closed since, as pytest's capture does)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


STDERR = _Stderr()


def route_logs(verbose: bool = False) -> None:
    """Send every stdout log handler to stderr; unless ``verbose``, keep other libraries at WARNING.

    Dask's distributed reads its log levels from its config when it is first imported, so the environment
    variable is set too (before the executor imports it).
    """
    for logger in (logging.getLogger(), logging.getLogger("sim"), logging.getLogger("hydra")):
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) in (sys.stdout,
                                                                                                   sys.stderr):
                handler.setStream(STDERR)
    level = logging.INFO if verbose else logging.WARNING
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(level)
    if not verbose:
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


def quiet_broken_pipe() -> None:
    """After a ``BrokenPipeError`` on stdout: point stdout at /dev/null so that Python's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for the known name closest to ``name`` (difflib ratio >= 0.6), else ``""``."""
    known = [k for k in dict.fromkeys(known) if k != name]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:  # a misspelt last part of a dotted key: scenario.deadlin.round
        close = [k for k in known if k.lower() == name.lower()]
    return f"did you mean {close[0]!r}?" if close else ""


_CHOICES = re.compile(r"(?P<head>.*?(?:choose one of|choose from|allowed:)\s*:?\s*)(?P<list>[^;()]+)(?P<tail>.*)",
                      re.S)


def error_line(message: str, suggestion: str = "") -> str:
    """An error as at most two lines: the message on one line (a long list of choices cut to its first ones)
    and, if any, the suggestion on the second."""
    text = " ".join(str(message).split())
    if len(text) > MAX_CHARS and (m := _CHOICES.match(text)):
        items = [i.strip() for i in m["list"].split(",") if i.strip()]
        shown = []
        for item in items:
            if len(m["head"]) + len(", ".join([*shown, item])) > MAX_CHARS - 40:
                break
            shown.append(item)
        tail = f" {m['tail'].lstrip()}" if m["tail"].strip() else ""
        text = f"{m['head']}{', '.join(shown)}, ... ({len(items) - len(shown)} more){tail}"
    if len(text) > MAX_CHARS * 2:
        text = text[:MAX_CHARS * 2 - 3] + "..."
    return text + (f"\n  {suggestion}" if suggestion else "")
