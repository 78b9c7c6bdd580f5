"""Forecasts from a vantage date: the as-of cut, the starting round, the prior sampler and the forecast tables.

Expected values are worked out by hand from the dates of ``conf/scenario/us_japan_2025.yaml`` (round 1 on
Wed 16 Apr 2025, one round every 7 days) and from the closed forms of the priors.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.config import plan
from sim.config.as_of import cut
from sim.config.priors import FIXED_IN_ENSEMBLE, draw, priors
from sim.config.sweep import column_name
from sim.config.values import ConfigError
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.preflight import UsageError, check_not_swept
from sim.report.forecast import BANDS, deal_by_date, forecast_table
from sim.run.runner import simulate
from tests.conftest import compose_config


def _cut(as_of: str):
    cfg = OmegaConf.to_container(compose_config(f"scenario.as_of={as_of}"), resolve=True)
    return cut(cfg)


# -- the as-of cut ---------------------------------------------------------------------------------

def test_without_a_vantage_date_the_scenario_is_used_as_written():
    cfg = OmegaConf.to_container(compose_config(), resolve=True)
    out, first = cut(cfg)
    assert out is cfg and first == 1


def test_the_deadline_extension_exists_from_its_date_and_not_the_day_before():
    # the 7 Jul letters moved the 9 Jul deadline to 1 Aug and the reciprocal rate to 25 % (10 + 15). The calendar
    # (scenario.facts.meetings): the seven meetings on the record (16 Apr ... 26 Jun), a round on the vantage date,
    # then weekly. From 6 Jul: round 8 on 6 Jul, the last before 9 Jul. From 7 Jul: round 8 on 7 Jul, then 14, 21,
    # 28 Jul (round 11), the last before 1 Aug.
    before, _ = _cut("2025-07-06")
    on, _ = _cut("2025-07-07")
    assert before["scenario"]["deadline"]["round"] == 8 and before["scenario"]["escalation"] == 14.0
    assert on["scenario"]["deadline"]["round"] == 11 and on["scenario"]["escalation"] == 15.0
    # the scenario's extension (p = 0.5, 3 rounds) is that of the 9 Jul deadline: on the record from 7 Jul on
    assert before["scenario"]["deadline"]["extension"] == {"probability": 0.5, "rounds": 3}
    assert on["scenario"]["deadline"]["extension"] == {"probability": 0.0, "rounds": 0}


def test_the_korea_forecast_from_15_july_starts_from_the_deadline_then_in_force():
    # us_korea_2025: round 1 on Thu 24 Apr 2025, weekly. 15 Jul is 82 days on: rounds 1..12 held (the 12th on
    # 10 Jul), the talks resume in round 13 (17 Jul). The deadline then in force is 1 Aug (the 7 Jul letter):
    # 99 days on, the last round before it is 1 + 99 // 7 = 15 (31 Jul), with the rise to 25 % (10 + 15 pp).
    overrides = ("+experiment=forecast", "scenario=us_korea_2025", "scenario.as_of=2025-07-15", "sweep.sample.n=6",
                 "scenario.breakdown_risk=0")
    points = plan(compose_config(*overrides)).points
    assert {p.structure.first_round for p in points} == {13}
    assert {float(p.inputs.deadline) for p in points} == {15.0}
    assert {float(p.inputs.escalation) for p in points} == {15.0}
    assert {float(p.inputs.extension_rounds) for p in points} == {0.0}
    point = points[0]
    model = NegotiationModel(point.structure, stack([point.inputs] * 8), world_seeds(3, np.arange(8)))
    model.run_model()
    assert (model.end_round >= 13).all() and (model.end_round <= 15).all()


def test_a_vantage_date_past_a_deadline_without_a_dated_record_is_refused():
    # without scenario.facts.deadlines the written deadline (round 13 of the weekly calendar: 16 Apr + 84 days =
    # 9 Jul) is the only one known; from 15 Jul the talks would start after it
    with pytest.raises(ConfigError) as err:
        plan(compose_config("scenario.as_of=2025-07-15", "~scenario.facts.deadlines"))
    assert str(err.value).startswith("scenario.as_of: 2025-07-15 comes after the talks' deadline (round 13, "
                                     "2025-07-09)")
    assert plan(compose_config("scenario.as_of=2025-07-09", "~scenario.facts.deadlines")).points


def test_a_vantage_date_dates_its_rounds_by_the_meetings_known_then():
    # a meeting counts from the date of its first source: the 13 Jun round is known from 15 Jun (jiji)
    assert _cut("2025-06-14")[0]["scenario"]["calendar"]["meetings"] == [
        "2025-04-16", "2025-05-01", "2025-05-23", "2025-05-30", "2025-06-05", "2025-06-14"]
    assert _cut("2025-06-15")[0]["scenario"]["calendar"]["meetings"][-2:] == ["2025-06-13", "2025-06-15"]
    assert _cut("2025-06-26")[0]["scenario"]["calendar"]["meetings"][-2:] == ["2025-06-13", "2025-06-26"]


def test_a_position_exists_from_the_day_it_was_stated():
    # Akazawa, 26 Jun (SEED-000): the 25 % car tariff is unacceptable -> a Japanese bound on cars
    before, _ = _cut("2025-06-25")
    on, _ = _cut("2025-06-26")
    assert "cars" not in (before["scenario"]["sides"]["japan"]["red_lines"] or {})
    assert on["scenario"]["sides"]["japan"]["red_lines"]["cars"] == {"max": 25.0}
    # Japan's package insistence (3 May, SEED-004): it refuses a sequential agenda from then on
    assert _cut("2025-05-02")[0]["scenario"]["sides"]["japan"]["refuses"] == []
    assert _cut("2025-05-03")[0]["scenario"]["sides"]["japan"]["refuses"] == ["sequential"]


def test_a_tariff_change_is_unknown_then_scheduled_then_in_force():
    # steel 25 -> 50 %: proclaimed 3 Jun, in force 4 Jun
    steel = {}
    for day in ("2025-06-02", "2025-06-03", "2025-06-04"):
        cfg, _ = _cut(day)
        sq = cfg["scenario"]["issues"]["steel_aluminium"]["status_quo"]
        scheduled = [(e["value"], e["effective"], e["announced"]) for e in cfg["scenario"]["schedule"]
                     if e["issue"] == "steel_aluminium"]
        steel[day] = (sq, scheduled)
    assert steel["2025-06-02"] == (25.0, [])
    assert steel["2025-06-03"] == (25.0, [(50.0, "2025-06-04", "2025-06-03")])
    assert steel["2025-06-04"] == (50.0, [])


@pytest.mark.parametrize(("as_of", "held"), [
    ("2025-04-16", 0),   # the first meeting is held that day: none before it
    ("2025-04-30", 1),   # the meeting of 16 Apr held; the talks resume on the vantage date
    ("2025-05-03", 2),   # 16 Apr and 1 May held (DOMAIN §1b: two by 3 May)
    ("2025-06-26", 6),   # six held before 26 Jun; the seventh is that day
])
def test_the_talks_start_after_the_rounds_held_by_the_vantage_date(as_of, held):
    _, first = _cut(as_of)
    assert first == held + 1


def test_the_engine_plays_its_first_round_on_the_vantage_date():
    overrides = ("scenario.as_of=2025-06-26", "scenario.breakdown_risk=0")
    point = plan(compose_config(*overrides)).points[0]
    assert point.structure.first_round == 7
    model = NegotiationModel(point.structure, stack([point.inputs] * 4), world_seeds(1, np.arange(4)),
                             record_rounds=np.arange(4))
    model.run_model()
    rounds = np.concatenate([r["round"] for r in model.round_log])
    assert rounds.min() == 7
    assert (model.end_round >= 7).all()
    assert str(point.structure.round_date(np.array([7]))[0]) == "2025-06-26"
    # round 7 is odd: under alternating offers the opener (Japan) proposes first
    assert model.round_log[0]["proposer"][0] == "japan"


@pytest.mark.parametrize(("as_of", "words"), [
    ("not-a-date", "must be a date YYYY-MM-DD from 2025-04-16"),
    ("2025-04-15", "got 2025-04-15"),
    ("2025-10-09", "to 2025-10-08 (round 26, the horizon protocol.max_rounds)"),
])
def test_a_bad_vantage_date_names_the_key_and_what_is_allowed(as_of, words):
    with pytest.raises(ConfigError) as err:
        plan(compose_config(f"scenario.as_of={as_of}"))
    assert str(err.value).startswith("scenario.as_of: ") and words in str(err.value)


@pytest.mark.slow
def test_a_bad_vantage_date_exits_2_before_anything_is_written(tmp_path):
    run_dir = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "sim", "run", "+experiment=forecast", "scenario.as_of=2025-04-01",
                           f"hydra.run.dir={run_dir}"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("error: scenario.as_of: ") and done.stderr.count("\n") == 1
    assert not run_dir.exists()


# -- the prior sampler -----------------------------------------------------------------------------

def _prior_cfg():
    return {"scenario": {"u": 0.5, "t": 0.5, "k": 3, "sourced": 1.0, "calibration": {
        "scenario.u": {"source": "test", "tag": "ASSUMPTION", "prior": {"dist": "uniform", "lo": 0.1, "hi": 0.9}},
        "scenario.t": {"source": "test", "tag": "ASSUMPTION",
                       "prior": {"dist": "triangular", "lo": 0.1, "mode": 0.25, "hi": 1.0}},
        "scenario.k": {"source": "test", "tag": "ASSUMPTION", "prior": {"dist": "uniform", "lo": 1, "hi": 8}},
        "scenario.sourced": {"source": "a row", "tag": "DOMAIN"},  # no prior: not drawn
    }}}


def test_prior_draws_have_the_priors_marginals():
    n = 20_000
    points = draw(_prior_cfg(), n, root_seed=11, grid_keys=set())
    assert set(points[0]) == {"scenario.u", "scenario.t", "scenario.k"}
    u = np.array([p["scenario.u"] for p in points])
    t = np.array([p["scenario.t"] for p in points])
    k = np.array([p["scenario.k"] for p in points])
    # uniform on [0.1, 0.9]: mean 0.5, variance 0.8^2 / 12; s.e. of the mean 0.0016, of the variance 0.0003
    assert u.min() >= 0.1 and u.max() <= 0.9
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 0.8**2 / 12) < 0.002
    # triangular (0.1, 0.25, 1.0): mean (a + c + b) / 3 = 0.45, variance (a²+b²+c²-ab-ac-bc) / 18 = 0.03875,
    # and P(x < mode) = (c - a) / (b - a) = 1/6
    assert abs(t.mean() - 0.45) < 0.01 and abs(t.var() - 0.03875) < 0.002
    assert abs((t < 0.25).mean() - 1 / 6) < 0.01
    # an integer uniform prior: each of 1..8 with probability 1/8 (s.e. 0.0023)
    assert set(k.tolist()) == set(range(1, 9)) and all(isinstance(p["scenario.k"], int) for p in points[:10])
    assert np.abs(np.bincount(k, minlength=9)[1:] / n - 1 / 8).max() < 0.01


def test_a_seed_fixes_the_ensemble():
    cfg = _prior_cfg()
    assert draw(cfg, 50, 3, set()) == draw(cfg, 50, 3, set())
    assert draw(cfg, 50, 3, set()) != draw(cfg, 50, 4, set())


def test_a_prior_that_cannot_be_drawn_names_its_key():
    cfg = _prior_cfg()
    cfg["scenario"]["calibration"]["scenario.missing"] = {"prior": {"dist": "uniform", "lo": 0, "hi": 1}}
    with pytest.raises(ConfigError, match=r"^scenario\.calibration\.scenario\.missing: unknown key"):
        priors(cfg)
    cfg = _prior_cfg()
    cfg["scenario"]["calibration"]["scenario.t"]["prior"]["mode"] = 2.0
    with pytest.raises(ConfigError, match=r"^scenario\.calibration\.scenario\.t\.prior: mode 2 lies outside"):
        priors(cfg)


def test_a_command_line_value_for_a_key_drawn_from_its_prior_is_refused():
    job = ["+experiment=forecast", "scenario.breakdown_risk=0.01"]
    with pytest.raises(UsageError, match=r"^scenario\.breakdown_risk: this run draws it from its prior"):
        check_not_swept(job, compose_config(*job))
    job = ["+experiment=forecast", "scenario.deadline.round=13"]  # no prior (a derived fact): the value is used
    check_not_swept(job, compose_config(*job))
    # a prior the ensemble does not draw (the round length: one calendar per run): the value is used
    assert "scenario.calendar.round_days" in FIXED_IN_ENSEMBLE
    job = ["+experiment=forecast", "scenario.calendar.round_days=10"]
    check_not_swept(job, compose_config(*job))


def test_the_ensemble_counts_against_the_planning_limits(monkeypatch):
    # its draws move payoffs and ranges: without the payoff arrays (sim.config.layout_vector) each is compiled, and
    # 2 x 150,000 points exceed the compiled points' limit
    import sim.config.layout as layout

    monkeypatch.setattr(layout, "vector_runs", lambda *args: None)
    with pytest.raises(ConfigError, match=r"^sweep: plans 300,000 grid points .* the limit is 200,000 grid "
                                          r"points when each is compiled"):
        plan(compose_config("+experiment=forecast", "sweep.sample.n=150000",
                            "+sweep.grid.scenario.calendar.round_days=[7,8]"))


# -- the forecast tables ---------------------------------------------------------------------------

def test_deal_by_date_by_hand():
    # three worlds from round 2: deals in rounds 3 and 5, one without a deal
    outcomes = pd.DataFrame({"deal": [True, True, False], "end_round": [3, 5, 6]})
    table = deal_by_date(outcomes, {"scenario": {"as_of": "2025-04-23"}}, dt.date(2025, 4, 16), 7, {"2025-04-23": 2},
                         last_round=6)
    assert table["round"].tolist() == [2, 3, 4, 5, 6]
    assert table["date"].tolist() == ["2025-04-23", "2025-04-30", "2025-05-07", "2025-05-14", "2025-05-21"]
    assert table["p_deal_by"].tolist() == [0.0, round(1 / 3, 4), round(1 / 3, 4), round(2 / 3, 4), round(2 / 3, 4)]


@pytest.fixture(scope="module")
def ensemble():
    """Two vantage dates, 150 worlds each, drawn from the priors."""
    p = plan(compose_config("+experiment=forecast", "sweep.sample.n=150",
                            "+sweep.grid.scenario.as_of=[2025-05-03,2025-06-26]"))
    outcomes, _ = simulate(p)
    return p, outcomes


def test_p_deal_by_date_is_a_step_function_ending_at_the_deal_rate(ensemble):
    p, outcomes = ensemble
    s = p.points[0].structure
    firsts = {str(pt.coordinates["scenario.as_of"]): pt.structure.first_round for pt in p.points}
    assert firsts == {"2025-05-03": 3, "2025-06-26": 7}
    meetings = {str(pt.coordinates["scenario.as_of"]): pt.structure.meetings for pt in p.points}
    table = deal_by_date(outcomes, {}, s.start_date, s.round_days, firsts, s.max_rounds, meetings)
    for v, t in table.groupby("vantage"):
        assert (np.diff(t["p_deal_by"]) >= 0).all()
        rate = outcomes.loc[outcomes[column_name("scenario.as_of")] == v, "deal"].mean()
        assert t["p_deal_by"].iloc[-1] == round(rate, 4)
        assert t["round"].iloc[0] == firsts[v]
        assert t["date"].iloc[0] == v  # the first simulated round is held on the vantage date


def test_quantile_bands_nest(ensemble):
    p, outcomes = ensemble
    issues = [(i.name, i.unit) for i in p.points[0].structure.space.issues]
    table = forecast_table(outcomes, issues, {})
    assert set(table["vantage"]) == {"2025-05-03", "2025-06-26"}
    for _, row in table.iterrows():
        q = [row[k] for k in BANDS]
        if row["term"] == "agreement_date":
            q = [dt.date.fromisoformat(x) for x in q]
        assert q == sorted(q), row.to_dict()
    # the agreement date is never before the vantage date
    dates = table[table["term"] == "agreement_date"]
    assert all(str(r["p10"]) >= r["vantage"] for _, r in dates.iterrows())


def test_the_written_scenario_agrees_with_its_dated_record():
    """Without a vantage date the written values hold; they are the record's: each tariff's status quo is its last
    recorded value, and the deadline (round and escalation) is the first one announced, in the as-of cut's rule."""
    cfg = OmegaConf.to_container(compose_config(), resolve=True)
    sc = cfg["scenario"]
    for issue, history in sc["facts"]["tariffs"].items():
        last = max(history, key=lambda e: (e["effective"], e["known"]))
        assert sc["issues"][issue]["status_quo"] == last["value"], issue
    first = min(sc["facts"]["deadlines"], key=lambda e: e["known"])
    # 9 Jul 2025 is 84 days after 16 Apr: round 1 + 84 // 7 = 13
    start = dt.date.fromisoformat(sc["calendar"]["start_date"])
    assert 1 + (dt.date.fromisoformat(first["date"]) - start).days // 7 == sc["deadline"]["round"] == 13
    assert first["escalation"] == sc["escalation"] == 14.0
