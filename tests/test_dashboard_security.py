"""The dashboard passes only typed values to the config, and its server answers only its own page.

Each check here failed before the fix it guards: a ``${oc.env:...}`` typed in the seed box came back
resolved in the page's error message, names from the page went into overrides unchecked, and the server
answered any ``Host`` and any websocket ``Origin``.
"""

from __future__ import annotations

import asyncio

import pytest

from sim.config.values import ConfigError
from sim.dashboard import views
from sim.dashboard.controls import scenario_model_kwargs
from sim.dashboard.guard import HostOriginGuard, allowed_hosts
from sim.dashboard.session import DashboardModel

SECRET = "s3cr3t-value-of-the-server"
INJECTIONS = ["${oc.env:SIM_TEST_SECRET}", "${oc.env:SIM_TEST_SECRET,x}", "1 run.name=x", "[1,2]", "1e999",
              "nan", "${now:%Y}"]


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("SIM_TEST_SECRET", SECRET)


@pytest.mark.parametrize("text", INJECTIONS)
@pytest.mark.parametrize("field", ["seed", "deadline", "escalation", "breakdown_risk", "extension_probability",
                                   "first_threshold"])
def test_no_interpolation_or_extra_override_from_a_number_box(field, text):
    model = DashboardModel(**{field: text})
    assert model.talks is None and model.error is not None
    assert SECRET not in model.error and "\n" not in model.error
    with pytest.raises(ConfigError):
        scenario_model_kwargs({"scenario": "us_japan_2025", field: text})


@pytest.mark.parametrize("field", ["scenario_name", "protocol", "first_offering", "second_acceptance",
                                   "first_opponent"])
def test_names_from_the_page_are_checked_against_the_config_groups(field):
    for text in ("${oc.env:SIM_TEST_SECRET}", "hardliner,ac_next", "package scenario.breakdown_risk=1",
                 "../../etc/passwd"):
        model = DashboardModel(**{field: text})
        assert model.talks is None and SECRET not in (model.error or "")
        assert "must be one of" in model.error


def test_typed_values_become_overrides_written_from_the_parsed_number():
    kwargs = scenario_model_kwargs({"scenario": "us_japan_2025", "protocol": "package", "seed": " 42 ",
                                    "deadline": "13", "escalation": 14, "breakdown_risk": "0.01",
                                    "extension_probability": 0.5, "first_offering": "hardliner"})
    assert "run.seed=42" in kwargs["overrides"] and "scenario.deadline.round=13" in kwargs["overrides"]
    assert "scenario.escalation=14.0" in kwargs["overrides"] and "scenario.breakdown_risk=0.01" in kwargs["overrides"]
    assert kwargs["strategies"] == {"us": "hardliner"}
    assert not any("$" in o for o in kwargs["overrides"])


def test_the_batch_size_is_bounded_on_the_server():
    for n in (0, 9, 10_001, 10**9, "1000", 2.5, True):
        with pytest.raises(ConfigError, match="N: must be an integer"):
            views.run_batch({"scenario": "us_japan_2025", "seed": "1"}, n)


# -- the server's Host and Origin check --------------------------------------------------------------------


HOSTS = allowed_hosts("127.0.0.1", 8765)


def _call(kind: str, headers: dict[str, str]) -> tuple[list[dict], bool]:
    """Send one request through the guard; return what it sent back and whether the app was reached."""
    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(scope)

    async def receive():
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {"type": kind, "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(HostOriginGuard(app, HOSTS, 8765)(scope, receive, send))
    return sent, bool(reached)


@pytest.mark.parametrize("headers", [
    {"Host": "127.0.0.1:8765"},
    {"Host": "localhost:8765", "Origin": "http://localhost:8765"},
    {"Host": "[::1]:8765", "Origin": "http://127.0.0.1:8765"},
])
@pytest.mark.parametrize("kind", ["http", "websocket"])
def test_requests_naming_this_server_pass(kind, headers):
    sent, reached = _call(kind, headers)
    assert reached and not sent


@pytest.mark.parametrize("headers", [
    {"Host": "attacker.example:8765"},  # DNS rebinding: a foreign name resolved to 127.0.0.1
    {},  # no Host at all
    {"Host": "127.0.0.1:9999"},
    {"Host": "127.0.0.1:8765", "Origin": "http://attacker.example"},  # cross-site websocket / request
    {"Host": "127.0.0.1:8765", "Origin": "null"},
    {"Host": "127.0.0.1:8765", "Origin": "http://127.0.0.1:8765.attacker.example"},
    {"Host": "user@127.0.0.1:8765"},
])
@pytest.mark.parametrize("kind", ["http", "websocket"])
def test_foreign_hosts_and_origins_are_refused(kind, headers):
    sent, reached = _call(kind, headers)
    assert not reached
    if kind == "http":
        assert sent[0]["status"] == 403 and sent[1]["body"].startswith(b"refused: ")
    else:
        assert sent == [{"type": "websocket.close", "code": 1008, "reason": sent[0]["reason"]}]


def test_a_remote_dashboard_accepts_only_the_names_it_was_given():
    hosts = allowed_hosts("0.0.0.0", 8765, ["dash.example.org", "10.1.2.3:8765"])
    assert {"dash.example.org:8765", "10.1.2.3:8765"} <= hosts
    assert "localhost:8765" not in hosts and "attacker.example:8765" not in hosts
    assert allowed_hosts("::1", 80) == {"[::1]:80", "127.0.0.1:80", "localhost:80"}
