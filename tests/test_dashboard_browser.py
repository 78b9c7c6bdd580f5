"""End to end: ``python -m sim dashboard`` in a real headless Chromium (Debian's ``chromium`` package).

Starts the server on a free 127.0.0.1 port with the default host, loads the page, changes a control
(the first party's offering strategy), resets, steps three rounds and checks that the concession-path
view follows round by round; then types a bad seed and checks the page shows a one-line message and the
server keeps serving; and runs the batch view. Skipped, saying why, without a Chromium or without the ``dashboard`` extra.
Set ``SIM_CHROMIUM`` to use another Chromium-based browser.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sim.dashboard.controls import position_names

pytestmark = pytest.mark.slow

SECRET = "s3cr3t-value-of-the-server"
"""An environment variable of the server's, which the page must never show."""
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str | None:
    if os.environ.get("SIM_CHROMIUM"):
        return os.environ["SIM_CHROMIUM"]
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the dashboard exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the dashboard did not listen on 127.0.0.1:{port} within {seconds} s")


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser's executable, or a skip saying why there is none (checked before the server starts)."""
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
    executable = _browser()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set SIM_CHROMIUM to a Chromium-based browser)")
    return executable


@pytest.fixture(scope="module")
def server():
    """One dashboard server for the module's tests: each test opens its own page, and each page is a session of
    its own on the server (its own model and settings), so the tests do not see each other's changes."""
    pytest.importorskip("solara", reason='the dashboard extra is not installed (pip install -e ".[dashboard]")')
    port = _free_port()
    env = {**os.environ, "MPLBACKEND": "Agg", "SIM_BROWSER_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "dashboard", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).resolve().parents[1])
    try:
        first_line = proc.stdout.readline().strip()
        assert first_line.startswith(f"dashboard: http://127.0.0.1:{port}/"), first_line  # the default host
        _wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(chromium, server):
    """One headless Chromium for the module's tests (each test opens its own context: its own cookies, storage
    and pages). The name ``rebound.test`` resolves to 127.0.0.1 in it (the DNS-rebinding check)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium,
                                     args=["--no-sandbox", "--host-resolver-rules=MAP rebound.test 127.0.0.1"])
        try:
            yield launched
        finally:
            launched.close()


def _caption(page) -> str:
    return page.inner_text(".sim-concession-caption")


def _wait_caption(page, prefix: str, timeout_ms: int = 20_000) -> None:
    page.wait_for_function(
        "p => { const e = document.querySelector('.sim-concession-caption'); return e && e.innerText.startsWith(p); }",
        arg=prefix, timeout=timeout_ms)


def _concession_image(page) -> str:
    return page.get_attribute(".sim-concession img", "src") or ""


def test_dashboard_in_headless_chromium(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1700})
    try:
        page = context.new_page()
        hosts = set()
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        page.goto(server)
        _wait_caption(page, "Round 0 ", timeout_ms=60_000)  # first load: the page's assets and first render
        assert "first party: United States (boulware" in page.inner_text(".sim-settings")
        assert page.title() == "sim: a negotiation, round by round"
        sidebar = page.inner_text(".v-navigation-drawer")
        assert "deadline (round): 13" in sidebar and "escalation (pp): 14" in sidebar  # sliders show values

        # change a control: the first party's offering strategy, then Reset builds the model from it
        page.get_by_label(f"{position_names(0)}: offering strategy").click(force=True)
        page.locator(".v-menu__content .v-list-item", has_text="hardliner").first.click()
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(
            "() => { const e = document.querySelector('.sim-settings'); "
            "return e && e.innerText.includes('United States (hardliner'); }",
            timeout=20_000)

        before = _concession_image(page)
        seen = [before]
        for k in (1, 2, 3):
            page.get_by_role("button", name="Step").click()
            _wait_caption(page, f"Round {k} ")
            page.wait_for_function("prev => { const e = document.querySelector('.sim-concession img'); "
                                   "return e && e.src !== prev; }",
                                   arg=seen[-1], timeout=20_000)
            seen.append(_concession_image(page))
        assert _caption(page).startswith("Round 3 of at most 16 (30 Apr 2025)")
        assert len(set(seen)) == 4  # the concession-path figure was redrawn after each round
        page.screenshot(path=str(tmp_path / "dashboard.png"))
        assert (tmp_path / "dashboard.png").stat().st_size > 10_000

        # bad input: a readable line in the page, no traceback, and the server keeps serving
        seed = page.get_by_label("root seed (integer in [0, 9223372036854775807])")
        seed.fill("abc")
        seed.press("Enter")
        page.get_by_role("button", name="Reset").click()
        page.wait_for_selector(".sim-error", timeout=20_000)
        message = page.inner_text(".sim-error")
        assert "run.seed: must be an integer" in message and "Traceback" not in page.inner_text("body")
        seed.fill("7")
        seed.press("Enter")
        page.get_by_role("button", name="Reset").click()
        _wait_caption(page, "Round 0 ")
        assert page.locator(".sim-error").count() == 0

        # the batch view: 1,000 seeds of the current settings
        page.get_by_role("tab", name="Batch of N seeds").click()
        page.locator(".sim-batch-run").click()
        page.wait_for_selector(".sim-batch-summary", timeout=20_000)
        assert page.inner_text(".sim-batch-summary").startswith("1,000 negotiations: deal rate ")
        assert hosts <= {urlsplit(server).netloc, ""}, f"the page fetched from elsewhere: {hosts}"
    finally:
        context.close()


def test_the_page_leaks_no_environment_and_refuses_other_sites(browser, server):
    """Security, in the browser: an interpolation typed in the seed box is not resolved, a rebound name is
    refused, and a page on another site cannot open the dashboard's websocket."""
    port = urlsplit(server).port
    context = browser.new_context(viewport={"width": 1400, "height": 1700})
    try:
        page = context.new_page()
        page.goto(server)
        _wait_caption(page, "Round 0 ", timeout_ms=60_000)
        seed = page.get_by_label("root seed (integer in [0, 9223372036854775807])")
        seed.fill("${oc.env:SIM_BROWSER_SECRET}")
        seed.press("Enter")
        page.get_by_role("button", name="Reset").click()
        page.wait_for_selector(".sim-error", timeout=20_000)
        assert "run.seed: must be an integer" in page.inner_text(".sim-error")
        assert SECRET not in page.content()

        # DNS rebinding: a foreign name that resolves to 127.0.0.1 gets a refusal, not the page
        response = page.goto(f"http://rebound.test:{port}/")
        assert response.status == 403 and "refused" in page.inner_text("body")

        # cross-site websocket: a page on another origin tries the dashboard's kernel socket
        other = context.new_page()
        other.route("http://elsewhere.test/**", lambda route: route.fulfill(body="<html><body>x</body></html>",
                                                                          content_type="text/html"))
        other.goto("http://elsewhere.test/")
        opened = other.evaluate(
            """port => new Promise(done => {
                const ws = new WebSocket(`ws://127.0.0.1:${port}/jupyter/api/kernels/k1/channels?session_id=s1`);
                ws.onopen = () => { ws.close(); done(true); };
                ws.onerror = () => done(false);
                ws.onclose = () => done(false);
                setTimeout(() => done(false), 10000);
            })""", port)
        assert opened is False
    finally:
        context.close()
