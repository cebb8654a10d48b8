"""The dashboard's model: controls validated like configs, scenario values kept."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.viz.dashboard_model import SLIDERS, DashboardModel, lever_label


def test_untouched_sliders_keep_the_scenario_values() -> None:
    model = DashboardModel(scenario_name="trilateral")
    assert model.input_errors == []
    assert model.overrides == []
    assert model.active_parameters()["sharing us->russia"] == pytest.approx(0.7)


def test_a_moved_slider_overrides_the_scenario() -> None:
    model = DashboardModel(scenario_name="trilateral", policy_us_russia=0.25, trust_us_russia=0.9)
    levers = model.active_parameters()
    assert levers["sharing us->russia"] == pytest.approx(0.25)
    assert levers["trust us in russia"] == pytest.approx(0.9)
    assert model.trust[0, 1] == pytest.approx(0.9)  # the prior in force at week 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": "abc"}, "seed = 'abc'"),
        ({"seed": "-3"}, "whole number"),
        ({"override": "sharing.compartmentalisation=1.5"}, "less than or equal to 1"),
        ({"override": "sharing.polcy.us.russia=0.5"}, "not a config path"),
        ({"override": "no equals sign"}, "KEY=VALUE"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_the_model_still_runs(
    kwargs: dict, message: str
) -> None:
    model = DashboardModel(**kwargs)
    assert any(message in e for e in model.input_errors), model.input_errors
    model.step()
    assert model.week == 1


def test_unknown_parameter_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="unknown dashboard parameters"):
        DashboardModel(policy_us_china=0.5)


def test_starts_at_week_zero_and_collects_each_step() -> None:
    model = DashboardModel(seed="5")
    assert model.week == 0
    assert model.time == 0
    for _ in range(4):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5
    assert frame["ISIS-K strength"].iloc[-1] == model.strength
    attacks = frame[[c for c in frame if c.startswith("attacks: ")]].sum(axis=1)
    assert attacks.is_monotonic_increasing


def test_region_risk_reflects_live_plots() -> None:
    model = DashboardModel(seed="5")
    risk = model.region_attack_risk()
    assert risk.shape == (len(model.geometry.ids),)
    assert (risk >= 0).all()
    assert risk.sum() > 0
    model.plots.n = 0
    assert np.all(model.region_attack_risk() == 0)


def test_sliders_default_to_the_baseline() -> None:
    assert SLIDERS["trust_us_russia"] == ("trust.initial.us.russia", 0.15)
    assert SLIDERS["policy_us_russia"] == ("sharing.policy.us.russia", 0.0)


def test_a_refused_override_is_not_listed_as_in_force() -> None:
    model = DashboardModel(policy_us_russia=0.5, override="sharing.compartmentalisation=1.5")
    assert model.overrides == ["sharing.policy.us.russia=0.5"]
    assert any("less than or equal to 1" in e for e in model.input_errors)


def test_week_label_gives_the_date_from_the_scenario_start() -> None:
    model = DashboardModel()
    assert model.week_label() == "Week 0 (2025-01-06)"
    model.step()
    assert model.week_label() == "Week 1 (2025-01-13)"


def test_every_slider_has_a_label_in_words() -> None:
    labels = [lever_label(name) for name in SLIDERS]
    assert lever_label("trust_us_russia") == "US trust in Russia (prior, 0–1)"
    assert len(set(labels)) == len(labels)
    assert not [t for t in labels if "." in t or "_" in t]
