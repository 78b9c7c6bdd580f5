"""The dashboard's model building, views and server options (no browser; see test_dashboard_browser.py)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import yaml

from sim.config.parameters import PARAMETERS
from sim.config.values import CONF_DIR
from sim.dashboard import serve, views
from sim.dashboard.controls import OWN, control_label, model_params, scenario_model_kwargs
from sim.dashboard.session import DashboardModel


def _yaml(path):
    return yaml.safe_load((CONF_DIR / path).read_text())


# -- controls ------------------------------------------------------------------------------------


def test_controls_take_labels_and_bounds_from_the_registry_and_options_from_conf():
    params = model_params()
    deadline = PARAMETERS["scenario.deadline.round"]
    horizon = _yaml("protocol/package.yaml")["max_rounds"]  # the compiler bounds the deadline by it
    assert params["deadline"]["label"] == control_label(deadline) == "deadline (round)"
    assert (params["deadline"]["min"], params["deadline"]["max"]) == (deadline.lo, horizon)
    assert params["breakdown_risk"]["label"] == "breakdown risk (probability per round)"
    assert (params["extension_probability"]["min"], params["extension_probability"]["max"]) == (0.0, 1.0)
    # escalation: [registry lo, the escalating issue's max minus its status quo] in the default scenario
    scenario = _yaml("scenario/us_japan_2025.yaml")
    issue = scenario["issues"][scenario["escalation_issue"]]
    assert params["escalation"]["max"] == pytest.approx(issue["max"] - issue["status_quo"])
    assert params["escalation"]["value"] == pytest.approx(scenario["escalation"])
    assert params["scenario_name"]["values"] == sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
    assert params["first_offering"]["values"][1:] == sorted(p.stem for p in (CONF_DIR / "strategy").glob("*.yaml"))
    assert params["second_opponent"]["values"][0] == OWN
    assert str(int(PARAMETERS["run.seed"].hi)) in params["seed"]["label"]


def test_settings_reach_the_model_by_party_position():
    model = DashboardModel(scenario_name="example_bilateral", first_offering="hardliner", second_offering="conceder",
                           deadline=9, extension_probability=0.0, escalation=3.0, seed="7")
    assert model.error is None
    first, second = model.talks.structure.parties
    assert (first.id, first.offering[0]) == ("north", "hardliner")
    assert (second.id, second.offering[0]) == ("south", "conceder")
    inputs = model.talks.point.inputs
    assert (float(inputs.deadline), float(inputs.extension_probability), float(inputs.escalation)) == (9, 0, 3)
    # the same seed gives the same negotiation; the seed is the run's root seed
    again = DashboardModel(scenario_name="example_bilateral", first_offering="hardliner", second_offering="conceder",
                           deadline=9, extension_probability=0.0, escalation=3.0, seed="7")
    assert np.array_equal(model.talks.seeds, again.talks.seeds)
    kwargs = scenario_model_kwargs(model.settings)
    assert "run.seed=7" in kwargs["overrides"] and kwargs["strategies"] == {"north": "hardliner", "south": "conceder"}


@pytest.mark.parametrize(("settings", "key"), [
    ({"seed": "abc"}, "run.seed"),
    ({"seed": "-1"}, "run.seed"),
    ({"seed": ""}, "run.seed"),
    ({"scenario_name": "example_bilateral", "escalation": 16.0}, "scenario.escalation"),
    ({"deadline": 26, "extension_probability": 1.0}, "scenario.deadline.extension.rounds"),
    ({"scenario_name": "example_bilateral", "first_threshold": 0.5}, "scenario.ratification.north.threshold"),
    ({"first_offering": "no_such_strategy"}, "no_such_strategy"),
    ({"scenario_name": "no_such_scenario"}, "scenario"),
])
def test_bad_settings_give_one_readable_line_and_a_stopped_model(settings, key):
    model = DashboardModel(**settings)
    assert model.talks is None and not model.running
    assert key in model.error and "\n" not in model.error and "Traceback" not in model.error
    model.step()  # a no-op, not an exception
    assert not model.running


# -- views of one negotiation --------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_rounds():
    model = DashboardModel(seed="11")
    for _ in range(3):
        model.step()
    return model.talks


def test_concession_view_draws_each_partys_offers_so_far(three_rounds):
    talks = three_rounds
    made = views.offers(talks)
    assert [o.round for o in made] == [1, 2, 3]
    log = {int(e["round"][0]): e for e in talks.round_log}
    for o in made:
        assert o.proposer == log[o.round]["proposer"][0]
        assert np.array_equal(o.package, log[o.round]["offer"][0])
    assert views.concession_caption(talks).startswith("Round 3 of at most 16 (30 Apr 2025)")  # 16 Apr + 2 weeks
    fig = views.concession_figure(talks)
    names = {spec.id: spec.name for spec in talks.structure.parties}
    for j, ax in enumerate(fig.axes[:talks.structure.space.n]):
        for line in ax.get_lines():
            for pid, name in names.items():
                if line.get_label() == f"{name} offers":
                    mine = [o for o in made if o.proposer == pid]
                    assert list(line.get_xdata()) == [o.round for o in mine]
                    assert np.allclose(line.get_ydata(), [o.package[j] for o in mine])
        deadlines = [line for line in ax.get_lines() if line.get_label() == "deadline"]
        assert deadlines and deadlines[0].get_xdata()[0] == 13  # the US deadline, 9 July = round 13


def test_utility_plane_offers_lie_under_the_frontier_and_nash_maximises_the_product(three_rounds):
    talks = three_rounds
    p = views.plane(talks)
    first, second = talks.negotiators
    checked = 0
    for u, o in zip(p.offers, views.offers(talks), strict=True):  # against the engine's own utility
        assert u[0] == pytest.approx(float(first.utility(o.package[None, :])[0]))
        assert u[1] == pytest.approx(float(second.utility(o.package[None, :])[0]))
        # nothing both sides can accept beats the frontier: at the offer's u_A, the frontier gives u_B at least as
        # high (an offer across the other side's red line, e.g. Japan's below the US floor, lies outside that set)
        lo = np.maximum(first.red_lo[0], second.red_lo[0])
        hi = np.minimum(first.red_hi[0], second.red_hi[0])
        if np.all((o.package >= lo - 1e-9) & (o.package <= hi + 1e-9)):
            order = np.argsort(p.frontier[:, 0])
            assert np.interp(u[0], p.frontier[order, 0], p.frontier[order, 1]) >= u[1] - 1e-9
            checked += 1
    assert checked  # the proposals of the side with the red line, at least, lie in the set
    d = p.disagreement
    assert d == (pytest.approx(float(first.reservation(3)[0])), pytest.approx(float(second.reservation(3)[0])))
    # brute force: the Nash product on a fine walk along the frontier never beats the Nash point's
    s = np.linspace(0, 1, 2001)[:, None]
    walk = np.concatenate([a + s * (b - a) for a, b in zip(p.frontier[:-1], p.frontier[1:], strict=True)])
    rational = walk[(walk[:, 0] >= d[0]) & (walk[:, 1] >= d[1])]
    best = np.max((rational[:, 0] - d[0]) * (rational[:, 1] - d[1]))
    assert (p.nash[0] - d[0]) * (p.nash[1] - d[1]) >= best - 1e-9


def test_reservation_values_move_as_the_deadline_nears():
    talks = DashboardModel(extension_probability=0.0, breakdown_risk=0.0).talks
    rounds, paths = views.reservation_paths(talks)
    assert rounds[0] == 1 and rounds[-1] == 13  # the deadline, no extension possible
    # the exporter (Japan) faces escalated tariffs after the deadline: its value of no deal falls; the US's rises
    assert np.all(np.diff(paths["japan"]) <= 1e-12) and paths["japan"][-1] < paths["japan"][0]
    assert np.all(np.diff(paths["us"]) >= -1e-12) and paths["us"][-1] > paths["us"][0]


def test_ratification_view_only_with_the_two_level_layer():
    assert not views.ratification_on(DashboardModel().talks)
    model = DashboardModel(second_threshold=0.5, seed="3")
    for _ in range(4):
        model.step()
    talks = model.talks
    assert views.ratification_on(talks)
    rounds, approval, threshold = views.approval_paths(talks)
    assert list(rounds) == [1, 2, 3, 4]
    assert np.all(threshold["japan"] == 0.5) and np.all(threshold["us"] == 0.0)
    assert np.all((approval["japan"] >= 0) & (approval["japan"] <= 1))
    japan = talks.negotiator("japan")
    assert approval["japan"][-1] == pytest.approx(float(japan.approval(talks.round_log[-1]["offer"])[0]))
    views.approval_figure(talks)


# -- the batch -----------------------------------------------------------------------------------


def test_batch_world_0_is_the_negotiation_played_round_by_round():
    settings = DashboardModel(seed="5").settings
    batch = views.run_batch(settings, 300)
    out = batch.outcomes
    assert len(out) == 300
    assert batch.deal_rate == pytest.approx(out["deal"].sum() / 300)
    one = DashboardModel(seed="5")
    while one.running:
        one.step()
    assert bool(out["deal"][0]) == (one.talks.end_reason[0] == 1)
    assert int(out["end_round"][0]) == int(one.talks.end_round[0])
    fig = views.batch_figure(batch)
    assert sum(p.get_height() for p in fig.axes[0].patches) == out["deal"].sum()  # the timing histogram
    assert f"{batch.n:,} negotiations" in batch.summary()


# -- the server's options ------------------------------------------------------------------------


def test_default_bind_address_is_loopback():
    options = serve.parse([])
    assert options.host == "127.0.0.1" and not options.allow_remote
    assert serve.is_local("127.0.0.1") and serve.is_local("::1") and serve.is_local("localhost")
    assert not serve.is_local("0.0.0.0") and not serve.is_local("192.168.1.2")


def test_remote_host_needs_the_flag_and_warns(monkeypatch, capsys):
    assert serve.main(["--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    calls = []
    monkeypatch.setattr(serve, "serve", lambda host, port, allowed: calls.append((host, port, allowed)))
    pytest.importorskip("solara")
    serve.main(["--host", "0.0.0.0", "--allow-remote", "--port", "8123", "--allowed-host", "dash.example.org"])
    captured = capsys.readouterr()
    assert "warning" in captured.err and "http://0.0.0.0:8123/" in captured.out
    assert calls[0] == ("0.0.0.0", 8123, ["dash.example.org"])
    serve.main([])
    assert "http://127.0.0.1:8765/" in capsys.readouterr().out
    assert calls[1] == ("127.0.0.1", 8765, [])


@pytest.mark.parametrize("args", [["--port", "abc"], ["--port", "70000"], ["--nope"]])
def test_bad_options_exit_2_with_one_line(args, capsys):
    with pytest.raises(SystemExit) as stop:
        serve.parse(args)
    assert stop.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_without_the_extra_one_line_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", None)  # import solara now raises ImportError
    assert serve.main([]) == 2
    err = capsys.readouterr().err.strip()
    assert err == serve.INSTALL_HINT and 'pip install -e ".[dashboard]"' in err


def test_page_is_a_solaraviz_page():
    pytest.importorskip("solara")
    from sim.dashboard import app

    assert callable(app.Page)
