"""Mechanisms of the Mesa model, each isolated in a tiny two-region world."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np
import pytest
from mesa.discrete_space import CellAgent
from tests.conftest import config

from scenarios.config import deep_merge, validate
from scenarios.model import kernels
from scenarios.model.agents import StateActor, ThreatCell
from scenarios.model.model import ScenarioModel, run_replication

N_PLOTS = 20_000


def tiny(**overrides: Any) -> ScenarioModel:
    """Two regions (a: home, b: abroad), actors x (rules a) and y (rules b), no threat dynamics."""
    raw: dict[str, Any] = {
        "name": "tiny",
        "run": {"steps": 5, "replications": 1, "burn_in": 0},
        "regions": {
            "a": {"country": "home", "jurisdiction": "x", "neighbours": ["b"]},
            "b": {"country": "abroad", "jurisdiction": "y", "neighbours": ["a"]},
        },
        "actors": {"x": {}, "y": {}},
        "threat": {
            "fighters": 100,
            "cells": 1,
            "target_preference": {"home": 1, "abroad": 1},
            "home_country": "home",
            "opsec": 0.0,
            "initial_distribution": {"a": 1},
        },
        "sharing": {"duty_to_warn": False},
        "interdiction": {"hazard": 0.0},
    }
    model = ScenarioModel(validate(deep_merge(raw, overrides)), seed=1)
    model.cells.opsec[:] = 0.0
    model.cells.strength[0] = 10**9  # interdictions must not wipe out the only cell
    return model


NEVER = 10**9  # a maturation week no test reaches


def add_plots(
    model: ScenarioModel, origin: int, target: int, n: int = N_PLOTS, matures_at: int = NEVER
) -> None:
    """Append ``n`` plots of the only cell, each with its own key."""
    start = model.plots.reserve(n)
    rows = slice(start, start + n)
    model.plots.key[rows] = np.arange(start, start + n, dtype=np.uint64) + np.uint64(7)
    model.plots.origin[rows] = origin
    model.plots.target[rows] = target
    model.plots.cell[rows] = 0
    model.plots.born[rows] = model.week
    model.plots.matures_at[rows] = matures_at
    model.plots.n = start + n


def intel_week(model: ScenarioModel) -> kernels.Tallies:
    model._intel_week()
    return model.tallies


def no_maturation() -> dict[str, Any]:
    return {}


def test_detection_hazard_combines_origin_and_target_coverage_less_opsec() -> None:
    model = tiny(**no_maturation(), actors={"x": {"coverage": {"a": 0.3, "b": 0.2}}})
    model.cells.opsec[0] = 0.5
    add_plots(model, 0, 1)
    intel_week(model)
    detected = model.plots.own[: model.plots.n, 0].mean()
    assert detected == pytest.approx((1 - 0.7 * 0.8) * 0.5, abs=0.01)
    assert model.plots.own[: model.plots.n, 1].sum() == 0  # y has no coverage
    assert model.plots.n == N_PLOTS  # nothing resolved


def test_plot_against_its_own_region_is_seen_once() -> None:
    model = tiny(**no_maturation(), actors={"x": {"coverage": {"a": 0.3}}})
    add_plots(model, 0, 0)
    intel_week(model)
    assert model.plots.own[: model.plots.n, 0].mean() == pytest.approx(0.3, abs=0.01)


def test_sharing_is_policy_times_trust_and_exploitation_is_compartmentalised() -> None:
    model = tiny(
        **no_maturation(),
        actors={"x": {"coverage": {"a": 1.0, "b": 1.0}}, "y": {"reach": {"b": 1.0}}},
        sharing={
            "policy": {"x": {"y": 0.6}},
            "compartmentalisation": 0.5,
            "sanitisation_loss": 0.4,
        },
        trust={"initial": {"x": {"y": 0.5}}},
        exploitation={"y": {"x": 0.4}},
        counterintelligence={"coverage_damage": 0.0},
    )
    add_plots(model, 0, 1)
    by_pair = intel_week(model).by_pair
    shared = by_pair[kernels.SHARED, 0, 1]
    exploited = by_pair[kernels.EXPLOITED, 0, 1]
    assert shared / N_PLOTS == pytest.approx(0.6 * 0.5, abs=0.015)
    assert exploited / shared == pytest.approx(0.4 * (1 - 0.5), abs=0.02)
    received = model.plots.knowledge[: model.plots.n, 1]
    np.testing.assert_allclose(np.unique(received), [0.0, 1 - 0.5 * 0.4])
    assert (model.plots.source[: model.plots.n, 1][received > 0] == 0).all()


def test_nothing_is_shared_with_an_actor_without_reach() -> None:
    model = tiny(
        **no_maturation(),
        actors={"x": {"coverage": {"a": 1.0, "b": 1.0}}},
        sharing={"policy": {"x": {"y": 1.0}}},
        trust={"initial": {"x": {"y": 1.0}}},
    )
    add_plots(model, 0, 1)
    assert intel_week(model).by_pair[kernels.SHARED].sum() == 0


def test_noticed_misuse_is_bad_evidence_and_burns_coverage() -> None:
    model = tiny(
        **no_maturation(),
        actors={
            "x": {"coverage": {"a": 1.0, "b": 1.0}, "counter_intelligence": 0.5},
            "y": {"reach": {"b": 1.0}},
        },
        sharing={"policy": {"x": {"y": 1.0}}},
        trust={"initial": {"x": {"y": 1.0}}},
        exploitation={"y": {"x": 1.0}},
        counterintelligence={"coverage_damage": 0.0001},
    )
    add_plots(model, 0, 1, n=5000)
    shared, exploited = intel_week(model).by_pair[:2, 0, 1]
    assert exploited == shared > 4000  # burned sources: x sees a little less as it goes
    assert model.world.new_bad[0, 1] / exploited == pytest.approx(0.5, abs=0.03)
    assert model.coverage_health[0] == pytest.approx((1 - 0.0001) ** exploited)
    before = model.trust[0, 1]
    model._update_trust()
    assert model.trust[0, 1] < before


def test_leaks_tip_off_the_cell() -> None:
    model = tiny(
        **no_maturation(),
        actors={"x": {"coverage": {"a": 1.0, "b": 1.0}}, "y": {"reach": {"b": 1.0}}},
        sharing={"policy": {"x": {"y": 1.0}}},
        trust={"initial": {"x": {"y": 1.0}}},
        counterintelligence={"leakage": {"y": 0.5}, "tipoff_opsec_gain": 1e-5},
    )
    add_plots(model, 0, 1, n=N_PLOTS)
    shared, _, leaked, _ = intel_week(model).by_pair[:, 0, 1]
    assert leaked / shared == pytest.approx(0.5, abs=0.015)
    tipped = model.plots.tipped[: model.plots.n]
    assert tipped.sum() == leaked
    assert model.cells.opsec[0] == pytest.approx(leaked * 1e-5)


def test_duty_to_warn_heeded_with_receptivity_times_trust() -> None:
    model = tiny(
        **no_maturation(),
        actors={
            "x": {"coverage": {"a": 1.0, "b": 1.0}, "duty_to_warn": True},
            "y": {"warning_receptivity": 0.8},
        },
        sharing={"duty_to_warn": True, "warning_quality": 0.5},
        trust={"initial": {"y": {"x": 0.5}}},
    )
    add_plots(model, 0, 1)
    counts = intel_week(model).counts
    issued, heeded = counts[kernels.WARNINGS_ISSUED], counts[kernels.WARNINGS_HEEDED]
    assert issued == N_PLOTS
    assert heeded / issued == pytest.approx(0.8 * 0.5, abs=0.015)
    knowledge = model.plots.knowledge[: model.plots.n, 1]
    assert (knowledge > 0).mean() == pytest.approx(0.4, abs=0.015)
    assert knowledge.max() == 0.5
    ignored = model.plots.ignored_by[: model.plots.n]
    assert ((ignored == 0) == (knowledge == 0)).all()


def test_warnings_switched_off_are_not_sent() -> None:
    model = tiny(
        **no_maturation(),
        actors={"x": {"coverage": {"a": 1.0, "b": 1.0}, "duty_to_warn": True}},
        sharing={"duty_to_warn": False},
    )
    add_plots(model, 0, 1)
    assert intel_week(model).counts[kernels.WARNINGS_ISSUED] == 0


def test_interdiction_races_a_fixed_maturation_week() -> None:
    """A known plot with L weeks to live meets L + 1 weekly interdiction chances."""
    h, life = 0.2, 6
    model = tiny(
        actors={"x": {"coverage": {"a": 1.0}, "reach": {"a": 1.0}}},
        interdiction={"hazard": h, "crackdown_boost": 0.0},
    )
    add_plots(model, 0, 0, matures_at=life)
    interdicted = attacks = ages = 0.0
    for week in range(life + 1):
        model.week = week
        tallies = intel_week(model)
        interdicted += tallies.counts[kernels.INTERDICTED]
        attacks += tallies.by_country[kernels.ATTEMPTED].sum()
    assert model.plots.n == 0
    assert interdicted + attacks == N_PLOTS
    assert interdicted / N_PLOTS == pytest.approx(1 - (1 - h) ** (life + 1), abs=0.01)
    assert (model.recorder.plot_ages[kernels.ATTACK, 0] == [life * attacks, attacks]).all()
    ages = model.recorder.plot_ages[kernels.INTERDICTION_AGE, 0]
    # ages at interdiction: geometric, truncated at the maturation week
    weights = h * (1 - h) ** np.arange(life + 1)
    assert ages[0] / ages[1] == pytest.approx(
        (weights * np.arange(life + 1)).sum() / weights.sum(), abs=0.05
    )


def test_interdictions_are_credited_to_the_actor_and_to_the_link() -> None:
    model = tiny(
        actors={"x": {"coverage": {"a": 1.0}}, "y": {"reach": {"b": 1.0}}},
        sharing={"policy": {"x": {"y": 1.0}}},
        trust={"initial": {"x": {"y": 1.0}}},
        interdiction={"hazard": 1.0},
        regions={"b": {"host_security": 0.5}},
    )
    add_plots(model, 0, 1, n=2000)
    tallies = intel_week(model)
    # x sees every plot, shares each with y, which has full reach: y stops them all
    assert tallies.by_actor[kernels.INTERDICTED_BY].tolist() == [0, 2000]
    assert tallies.by_pair[kernels.INTERDICTED_WITH_SHARED, 0, 1] == 2000
    assert tallies.counts[kernels.UNINFORMED_INTERDICTIONS] == 0  # informed came first
    # without the shared material only host security, knowing nothing, stops plots
    model = tiny(regions={"b": {"host_security": 0.5}})
    add_plots(model, 0, 1)
    tallies = intel_week(model)
    assert tallies.counts[kernels.UNINFORMED_INTERDICTIONS] / N_PLOTS == pytest.approx(
        0.5, abs=0.015
    )
    assert tallies.by_actor.sum() == 0


def test_hardening_sets_attack_success_and_severity_is_heavy_tailed() -> None:
    model = tiny(
        regions={"b": {"hardening": 0.25}},
        severity={"minimum": 2, "exponent": 2.2, "cap": 10_000},
    )
    add_plots(model, 0, 1, matures_at=0)
    attempted, successful, deaths = intel_week(model).by_country[:3, 1]
    assert attempted == N_PLOTS
    assert successful / attempted == pytest.approx(0.75, abs=0.01)
    ccdf = model.recorder.severity_ccdf  # counts with >= 1, 2, 5, 10, 25, 50, ...
    assert ccdf[1] == successful  # minimum 2 fatalities
    # P(X >= x) = (x / 2)^-(alpha - 1)
    assert ccdf[4] / ccdf[1] == pytest.approx((25 / 2) ** -1.2, rel=0.1)
    assert deaths / successful > 2


def test_plots_die_with_their_cell() -> None:
    model = tiny(**no_maturation())
    add_plots(model, 0, 1, n=10)
    model.cells.strength[0] = 0
    assert intel_week(model).counts[kernels.ABANDONED] == 10
    assert model.plots.n == 0


def test_crackdown_builds_up_displaces_targets_and_works_through_intelligence() -> None:
    model = tiny(
        run={"steps": 40, "burn_in": 0},
        actors={
            "x": {
                "coverage": {"a": 0.1},
                "crackdown": {"intensity": 0.0, "buildup": 0.5, "coverage_boost": 3.0},
            }
        },
        threat={
            "displacement": 1.0,
            "plot_rate": 50.0,
            "relocation_rate": 0.0,
            "fighters_lost_per_interdiction": 0,
            "disruption_weeks": 0,
        },
        interventions=[
            {
                "name": "crackdown",
                "start": "2025-01-06",
                "set": {"actors.x.crackdown.intensity": 1.0},
            }
        ],
    )
    model.cells.strength[0] = 1000
    model.step()
    assert model.crackdown_level[0] == pytest.approx(0.5)
    model.step()
    assert model.crackdown_level[0] == pytest.approx(0.75)
    for _ in range(20):
        model.step()
    level = model.crackdown_level[0]
    assert level > 0.99
    model.plots.n = 0
    model._threat_week()
    targets = model.plots.target[: model.plots.n]
    assert len(targets) > 100
    assert (targets == 1).mean() > 0.99  # fully displaced abroad
    # the crackdown raises x's collection at home; it stops no plot it knows nothing of
    model.plots.n = 0
    add_plots(model, 0, 0)
    tallies = intel_week(model)
    seen = model.plots.own[: model.plots.n, 0].mean()
    assert seen == pytest.approx(0.1 * (1 + 3.0 * level), abs=0.015)
    assert tallies.counts[kernels.INTERDICTED] == 0  # interdiction hazard is 0 in tiny()


def test_cells_relocate_both_ways_and_pay_for_it() -> None:
    """Pressure pushes cells out; the home country's pull brings them back."""
    raw = {
        "name": "geo",
        "run": {"steps": 200, "replications": 1, "burn_in": 0},
        "regions": {
            "home": {"country": "home", "neighbours": ["away"], "host_pressure": 0.0},
            "away": {"country": "away", "neighbours": ["home"]},
        },
        "actors": {"x": {}},
        "threat": {
            "fighters": 4000,
            "cells": 40,
            "home_country": "home",
            "initial_distribution": {"away": 1},
            "target_preference": {"home": 1},
            "plot_rate": 0.0,
            "recruitment_rate": 0.0,
            "attrition_rate": 0.0,
            "host_attrition": 0.0,
            "relocation_rate": 0.5,
            "relocation_cost": 0.1,
            "home_affinity": 4.0,
            "split_size": 100_000,
        },
    }
    model = ScenarioModel(validate(raw), seed=3)
    model.run()
    home = model.recorder.country_level["strength"][:, 0]
    assert home[0] < 0.5 * model.recorder.scalar["strength"][0]
    assert home[-1] > 0.6 * model.recorder.scalar["strength"][-1]  # pulled back home
    assert model.strength < 4000  # moving cost fighters
    # pressure at home reverses the flow
    raw["regions"]["home"]["host_pressure"] = 1.0
    raw["threat"]["pressure_aversion"] = 1.0
    raw["threat"]["initial_distribution"] = {"home": 1}
    model = ScenarioModel(validate(raw), seed=3)
    model.run()
    assert model.recorder.country_level["strength"][-1, 0] == 0


def test_an_intervention_changes_behaviour_only_while_active() -> None:
    cfg = config(
        "baseline",
        "run.steps=30",
        "run.burn_in=0",
        "interventions=[{name: pause, start: 2025-01-20, end: 2025-02-17, "
        "set: {threat.plot_rate: 0.0}}]",
    )
    columns, _ = run_replication(cfg, 5)
    started = columns["plots_started"]
    assert started[:2].sum() > 0
    assert started[2:6].sum() == 0  # 2025-01-20 .. 2025-02-16
    assert started[6:].sum() > 0


def test_same_seed_same_history_different_seed_different_history() -> None:
    cfg = config("baseline", "run.steps=40")
    a, _ = run_replication(cfg, np.random.SeedSequence(42))
    b, _ = run_replication(cfg, np.random.SeedSequence(42))
    c, _ = run_replication(cfg, np.random.SeedSequence(43))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_agents_are_mesa_agents_on_the_region_network() -> None:
    cfg = config("baseline", "run.steps=20")
    model = ScenarioModel(cfg, 3)
    model.run_for(20)
    cells = model.agents_by_type[ThreatCell]
    assert all(isinstance(c, CellAgent) for c in cells)
    assert cells.agg("strength", sum) == model.strength
    assert len(cells) == len(model.cells.live_slots())
    for agent in cells:
        assert agent in agent.cell.agents
        assert agent.cell.coordinate == agent.region
        assert agent.state in {"recruiting", "plotting", "disrupted"}
    actors = model.agents_by_type[StateActor]
    assert sorted(a.name for a in actors) == sorted(cfg.actors)
    us = next(a for a in actors if a.name == "us")
    assert us.trust_in("russia") == pytest.approx(model.trust[0, 1])


def test_strength_recorded_matches_cells() -> None:
    cfg = config("baseline", "run.steps=30")
    model = ScenarioModel(cfg, 9)
    columns = model.run()
    assert columns["strength"][-1] == model.strength
    assert columns["cells"][-1] == len(model.agents_by_type[ThreatCell])


def test_finished_model_is_garbage_collected() -> None:
    cfg = config("baseline", "run.steps=10")
    model = ScenarioModel(cfg, 1)
    model.run()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_an_intervention_from_the_start_date_sets_trust_at_week_zero() -> None:
    cfg = config(
        "baseline",
        "run.steps=2",
        "interventions=[{name: detente, start: 2025-01-06, set: {trust.initial.us.russia: 0.9}}]",
    )
    columns, _ = run_replication(cfg, 2)
    assert columns["trust__us__russia"][0] == pytest.approx(0.9, abs=0.05)


def test_an_interdiction_disrupts_plotting_which_recovers_smoothly() -> None:
    """Each interdiction cuts the cell's plot rate by a factor e; the cut fades each week."""

    def started(disruption: float) -> tuple[int, float]:
        model = tiny(threat={"plot_rate": 5.0, "relocation_rate": 0.0, "disruption_weeks": 4})
        model.cells.strength[0] = 10_000
        model.cells.disruption[0] = disruption
        model._threat_week()
        return model.plots.n, float(model.cells.disruption[0])

    calm, _ = started(0.0)
    hit, after = started(1.0)
    assert hit / calm == pytest.approx(np.exp(-1.0), rel=0.05)
    assert after == pytest.approx(0.75)  # recovers by 1 / disruption_weeks of the cut a week
    model = tiny(
        actors={"x": {"coverage": {"a": 1.0}, "reach": {"a": 1.0}}},
        interdiction={"hazard": 1.0},
    )
    add_plots(model, 0, 0, n=3)
    intel_week(model)
    assert model.cells.disruption[0] == 3.0


def test_prepare_keeps_alternating_configs_and_never_mixes_them() -> None:
    """A contrast sweep alternates two arms: both stay prepared (same objects back), and
    equal but distinct objects are not taken for each other."""
    from scenarios.model.params import compile_parameters
    from scenarios.model.regions import build_geometry
    from scenarios.model.simulation import prepare

    arms = []
    for rate in (1.0, 2.0):
        cfg = config("baseline", f"threat.plot_rate={rate}")
        geometry = build_geometry(cfg)
        arms.append((cfg, geometry, compile_parameters(cfg, geometry)))
    first = [prepare(*arm) for arm in arms]
    assert [prepare(*arm) for arm in arms] == first
    assert all(prepare(*arm) is p for arm, p in zip(arms, first, strict=True))
    cfg, geometry, parameters = arms[0]
    copy = cfg.model_copy(deep=True)
    assert prepare(copy, geometry, parameters) is not first[0]
