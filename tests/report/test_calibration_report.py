"""The calibration report: verdicts per target and per parameter, figures, partial banner.

Built from a synthetic calibration directory whose posterior and predictive draws are
known: one parameter concentrated, one as wide as its prior, one narrowed only by its
weights; one target reproduced, one the model overshoots, one point fact it undershoots.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from tests.report.test_plots import problems

from scenarios.experiment.errors import CompareError
from scenarios.report import calibration_report
from scenarios.report.calibration_report import (
    AS_WIDE,
    CONSTRAINED,
    CONSTRAINED_RATIO,
    MAX_PAIR_PARAMETERS,
    NO_DRAWS,
    TOO_HIGH,
    TOO_LOW,
    ParameterCheck,
    calibration_summary_lines,
    pair_parameters,
    parameter_checks,
    read_calibration,
    target_checks,
    target_verdict,
    weighted_quantile,
    write_calibration_report,
)

N = 1001  # particles
DRAWS = 400  # predictive draws

PARAMETERS = {
    "threat.capability": {
        "distribution": "uniform",
        "low": 0.0,
        "high": 1.0,
        "label": "Capability",
    },
    "trust.default": {"distribution": "uniform", "low": 0.0, "high": 10.0},  # no label
    "interdiction.hazard": {
        "distribution": "uniform",
        "low": 0.0,
        "high": 1.0,
        "label": "Interdiction hazard",
    },
}
TARGETS = [
    # name, label, unit, observed, low, high, predictive mean, sd
    ("attacks_afghanistan_2022", "Attacks in Afghanistan, 2022", "attacks", 25, 20, 30, 25, 6),
    ("deaths_2022", "Deaths in 2022", "deaths", 110, 100, 120, 300, 10),
    ("strength_2024", "Fighters, 2024", "fighters", 3000, 3000, 3000, 1000, 100),
]


def make_calibration(out: Path, status: str = "complete") -> Path:
    """A calibration directory as `scenarios calibrate` writes it, with known contents."""
    out.mkdir(parents=True)
    rng = np.random.default_rng(7)
    manifest = {
        "kind": "calibration",
        "name": "synthetic",
        "scenario": "historical_2022_2024",
        "seed": 0,
        "status": status,
        "command": "scenarios calibrate configs/calibration/synthetic.yaml",
        "seconds": 754.0,
        "parameters": PARAMETERS,
        "stopped_because": "minimum epsilon reached",
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    grid = np.linspace(0.0, 1.0, N)
    # capability: equal weights, evenly over [0.2, 0.4] -> 90% width 0.18 of the prior's 0.9;
    # trust.default: evenly over its whole prior; hazard: spread over its prior, but only
    # particles in [0.5, 0.6] carry weight.
    hazard_weight = ((grid >= 0.5) & (grid <= 0.6)).astype(float)
    weight = np.where(hazard_weight > 0, 1.0, 0.0)
    posterior = pd.DataFrame(
        {
            "particle": np.arange(N, dtype="int64"),
            "weight": weight / weight.sum(),
            "threat.capability": 0.2 + 0.2 * rng.permutation(grid),
            "trust.default": 10 * rng.permutation(grid),
            "interdiction.hazard": grid,
        }
    )
    # the capability and trust columns are permuted, so the weights select a random
    # tenth of them: still evenly spread, on average
    posterior.to_parquet(out / "posterior.parquet")
    pd.DataFrame(
        {
            "generation": [0, 1, 2],
            "epsilon": [50.0, 8.0, 1.5],
            "acceptance_rate": [0.6, 0.3, 0.1],
            "ess": [480.0, 350.0, 300.0],
            "particles": [500, 500, 500],
            "simulations": [800, 1700, 5000],
            "total_simulations": [800, 2500, 7500],
            "seconds": [60.0, 150.0, 544.0],
        }
    ).to_csv(out / "history.csv", index=False)
    rows = [
        {
            "name": name,
            "label": label,
            "unit": unit,
            "observed": obs,
            "low": low,
            "high": high,
            "scale": max(high - low, 1.0),
            "fact": name,
            "source": "synthetic",
            "note": "",
        }
        for name, label, unit, obs, low, high, _, _ in TARGETS
    ]
    pd.DataFrame(rows).to_csv(out / "targets.csv", index=False)
    predictive = {"draw": np.arange(DRAWS), "particle": rng.integers(0, N, DRAWS)}
    prior = {"draw": np.arange(DRAWS), "particle": np.arange(DRAWS)}
    for name, *_, mean, sd in TARGETS:
        predictive[name] = rng.normal(mean, sd, DRAWS)
        prior[name] = rng.normal(mean, 8 * sd, DRAWS)
    pd.DataFrame(predictive).to_parquet(out / "predictive.parquet")
    pd.DataFrame(prior).to_parquet(out / "prior_predictive.parquet")
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = make_calibration(tmp_path_factory.mktemp("cal") / "complete")
    page = write_calibration_report(out)
    assert page == out / "report.html"
    return out


# ---------------------------------------------------------------- weighted quantiles


def test_weighted_quantile_with_equal_weights_is_hazen() -> None:
    x = np.random.default_rng(1).normal(size=37)
    q = [0.0, 0.05, 0.3, 0.5, 0.95, 1.0]
    got = weighted_quantile(x, np.ones_like(x), q)
    assert np.allclose(got, np.quantile(x, q, method="hazen"))


def test_weighted_quantile_follows_the_weights() -> None:
    x = np.array([3.0, 1.0, 2.0, 10.0])
    # weight 0 is ignored; scaling the weights changes nothing
    assert weighted_quantile(x, [1, 1, 1, 0], 1.0) == 3.0
    assert np.allclose(
        weighted_quantile(x, [1, 2, 3, 4], [0.1, 0.5]),
        weighted_quantile(x, [10, 20, 30, 40], [0.1, 0.5]),
    )
    # nearly all weight on one value: every central quantile is that value
    assert weighted_quantile(x, [1e-9, 1e-9, 1.0, 1e-9], 0.5) == pytest.approx(2.0)
    # more weight to the high values moves the median up (unweighted median: 2.5)
    assert weighted_quantile(x, [1, 1, 1, 1], 0.5) == pytest.approx(2.5)
    assert weighted_quantile(x, [1, 1, 1, 5], 0.5) > 3.0


@pytest.mark.parametrize(
    ("values", "weights"), [([1.0, 2.0], [1.0]), ([1.0, 2.0], [1.0, -1.0]), ([1.0], [0.0])]
)
def test_weighted_quantile_refuses_bad_weights(values: list[float], weights: list[float]) -> None:
    with pytest.raises(ValueError, match="weight"):
        weighted_quantile(values, weights, 0.5)


# ---------------------------------------------------------------- parameters


def test_parameter_widths_and_verdicts(report: Path) -> None:
    checks = {p.name: p for p in parameter_checks(read_calibration(report))}
    cap, trust, hazard = (
        checks["threat.capability"],
        checks["trust.default"],
        checks["interdiction.hazard"],
    )
    # hazard: weighted particles evenly over [0.5, 0.6]: 90% width 0.09 of the prior's 0.9
    assert hazard.ratio == pytest.approx(0.1, abs=0.005)
    assert hazard.median == pytest.approx(0.55, abs=0.002)
    assert hazard.verdict == CONSTRAINED
    # capability: a random tenth of [0.2, 0.4]: width about 0.18 of 0.9
    assert cap.ratio == pytest.approx(0.2, abs=0.03)
    assert cap.verdict == CONSTRAINED
    assert 0.2 <= cap.q_low < cap.median < cap.q_high <= 0.4
    # trust: a random tenth of its whole prior
    assert trust.ratio == pytest.approx(1.0, abs=0.08)
    assert trust.verdict == AS_WIDE
    assert (trust.prior_low, trust.prior_high) == (0.0, 10.0)
    assert trust.label == "trust.default"  # no label: the dotted path


def test_the_threshold_decides_the_parameter_verdict(tmp_path: Path) -> None:
    out = make_calibration(tmp_path / "c")
    cal = read_calibration(out)
    posterior = cal.posterior.copy()
    # capability spread evenly over a share of its prior just under and just over the ratio
    for share, verdict in (
        (CONSTRAINED_RATIO - 0.03, CONSTRAINED),
        (CONSTRAINED_RATIO + 0.03, AS_WIDE),
    ):
        posterior["threat.capability"] = np.linspace(0, share, N)
        posterior["weight"] = 1.0 / N
        posterior.to_parquet(out / "posterior.parquet")
        cap = parameter_checks(read_calibration(out))[0]
        assert cap.ratio == pytest.approx(share, abs=0.002)
        assert cap.verdict == verdict


def test_the_pairwise_figure_keeps_the_most_constrained_parameters() -> None:
    checks = [
        ParameterCheck(f"p{i}", f"P{i}", 0, 1, 0.5, 0.4, 0.6, ratio, CONSTRAINED)
        for i, ratio in enumerate([0.9, 0.1, 0.5, 0.95, 0.3, 0.2, 0.8, 0.05])
    ]
    kept = pair_parameters(checks)
    assert len(kept) == MAX_PAIR_PARAMETERS
    assert {p.name for p in kept} == {"p7", "p1", "p5", "p4", "p2", "p6"}
    assert pair_parameters(checks[:3]) == checks[:3]


# ---------------------------------------------------------------- targets


def test_target_verdicts(report: Path) -> None:
    checks = {t.name: t for t in target_checks(read_calibration(report))}
    inside = checks["attacks_afghanistan_2022"]
    assert inside.verdict == "band inside the predictive 90%"
    assert inside.q_low < 20
    assert inside.q_high > 30
    assert 0.4 < inside.inside < 0.75
    assert inside.inside + inside.below + inside.above == pytest.approx(1.0)
    assert checks["deaths_2022"].verdict == TOO_HIGH
    assert checks["deaths_2022"].above == 1.0
    assert checks["strength_2024"].verdict == TOO_LOW
    assert checks["strength_2024"].below == 1.0
    assert np.isfinite(inside.prior_low)
    assert inside.prior_low < inside.q_low


@pytest.mark.parametrize(
    ("band", "predictive", "verdict"),
    [
        ((10, 20), (0, 30), "band inside the predictive 90%"),
        ((10, 20), (12, 18), "predictive 90% inside the band"),
        ((10, 20), (21, 30), TOO_HIGH),
        ((10, 20), (0, 9.9), TOO_LOW),
        ((10, 20), (5, 15), "band overlaps the predictive 90% (model leans low)"),
        ((10, 20), (15, 25), "band overlaps the predictive 90% (model leans high)"),
        ((10, 10), (5, 15), "observed inside the predictive 90%"),
        ((10, 10), (11, 15), TOO_HIGH),
    ],
)
def test_target_verdict(
    band: tuple[float, float], predictive: tuple[float, float], verdict: str
) -> None:
    assert target_verdict(*band, *predictive) == verdict


# ---------------------------------------------------------------- the report


def test_report_names_every_target_and_parameter_with_its_verdict(report: Path) -> None:
    page = (report / "report.html").read_text()
    md = (report / "report.md").read_text()
    for _, label, *_ in TARGETS:
        assert label in page
    for name, spec in PARAMETERS.items():
        assert name in page
        assert spec.get("label", name) in page
    rows = {
        line.split(" | ")[0].lstrip("| "): line for line in md.splitlines() if line.startswith("| ")
    }
    assert "**model too high**" in rows["Deaths in 2022 (deaths)"]
    assert "**model too low**" in rows["Fighters, 2024 (fighters)"]
    assert CONSTRAINED in rows["Interdiction hazard (`interdiction.hazard`)"]
    assert AS_WIDE in rows["trust.default (`trust.default`)"]
    assert "x0.10" in rows["Interdiction hazard (`interdiction.hazard`)"]
    # the answer comes before the first figure
    assert md.index("In short") < md.index("Deaths in 2022") < md.index("![")
    assert (
        "reaches the record for 1 of 3 targets; it is too high for Deaths in 2022 and too low "
        "for Fighters, 2024." in md
    )
    assert "The record constrains 2 of 3 parameters (Capability and Interdiction hazard)" in md
    assert "The others stay about as wide as their priors: trust.default." in md
    assert "banner" not in page


def test_figures_exist_and_are_in_the_report(report: Path) -> None:
    md = (report / "report.md").read_text()
    page = (report / "report.html").read_text()
    referenced = re.findall(r"\]\((plots/[^)]+\.png)\)", md)
    assert set(referenced) == {
        f"plots/{n}" for n in ("predictive_check.png", "marginals.png", "pairs.png", "history.png")
    }
    for ref in referenced:
        assert (report / ref).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("data:image/png;base64,") == len(referenced)


def test_a_running_calibration_shows_the_partial_banner(tmp_path: Path) -> None:
    out = make_calibration(tmp_path / "running", status="running")
    page = write_calibration_report(out).read_text()
    assert 'class="banner"' in page
    assert "Partial results" in page
    assert page.index("Partial results") < page.index("Does the model reproduce")


def test_summary_lines_one_per_target_and_parameter(report: Path) -> None:
    lines = calibration_summary_lines(report)
    assert len(lines) == len(TARGETS) + len(PARAMETERS)
    assert lines[1].startswith("Deaths in 2022: observed 100 to 120 deaths;")
    assert TOO_HIGH in lines[1]
    assert lines[2].startswith("Fighters, 2024: observed 3,000 fighters;")
    assert lines[-1].startswith("Interdiction hazard: 0.55 [0.5")
    assert lines[-1].endswith(CONSTRAINED)
    assert AS_WIDE in lines[-2]


def test_not_a_calibration_directory(tmp_path: Path) -> None:
    with pytest.raises(CompareError, match="not a calibration directory"):
        write_calibration_report(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "sweep"}))
    with pytest.raises(CompareError, match="'sweep'"):
        write_calibration_report(tmp_path)


def test_a_calibration_without_predictive_draws_yet(tmp_path: Path) -> None:
    out = make_calibration(tmp_path / "early", status="running")
    (out / "prior_predictive.parquet").unlink()
    predictive = pd.read_parquet(out / "predictive.parquet")
    predictive.drop(columns="deaths_2022").to_parquet(out / "predictive.parquet")
    checks = {t.name: t for t in target_checks(read_calibration(out))}
    assert checks["deaths_2022"].verdict == NO_DRAWS
    assert checks["strength_2024"].verdict == TOO_LOW
    assert "1 of 3 targets have no predictive draws." in calibration_report.to_markdown(
        read_calibration(out), list(checks.values()), [], {}
    )
    (out / "predictive.parquet").unlink()
    write_calibration_report(out)
    md = (out / "report.md").read_text()
    assert md.count(f"| {NO_DRAWS} |") == len(TARGETS)
    header = next(line for line in md.splitlines() if line.startswith("| target"))
    assert "before calibration" not in header
    assert "No target has posterior predictive draws yet." in md
    assert all(line.endswith(NO_DRAWS) for line in calibration_summary_lines(out)[:3])


def add_parameters(out: Path, ratios: list[float]) -> None:
    """Extra parameters whose posterior spans ``ratio`` of their prior (equal weights)."""
    manifest = json.loads((out / "manifest.json").read_text())
    posterior = pd.read_parquet(out / "posterior.parquet")
    posterior["weight"] = 1.0 / N
    for i, ratio in enumerate(ratios):
        name = f"extra.p{i}"
        manifest["parameters"][name] = {"distribution": "uniform", "low": 0, "high": 1}
        posterior[name] = np.random.default_rng(i).permutation(np.linspace(0, ratio, N))
    (out / "manifest.json").write_text(json.dumps(manifest))
    posterior.to_parquet(out / "posterior.parquet")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A calibration of eight parameters, its report written."""
    out = make_calibration(tmp_path_factory.mktemp("cal") / "many")
    add_parameters(out, [0.9, 0.95, 0.5, 0.99, 0.85])
    write_calibration_report(out)
    return out


def test_many_parameters_keep_the_pairwise_figure_small(many: Path) -> None:
    md = (many / "report.md").read_text()
    assert f"the {MAX_PAIR_PARAMETERS} most constrained of 8 parameters" in md
    assert "extra.p3" in md  # in the table, though not in the pairwise figure


def test_one_parameter_has_no_pairwise_figure(tmp_path: Path) -> None:
    out = make_calibration(tmp_path / "one")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["parameters"] = {"trust.default": manifest["parameters"]["trust.default"]}
    (out / "manifest.json").write_text(json.dumps(manifest))
    write_calibration_report(out)
    md = (out / "report.md").read_text()
    assert "pairs.png" not in md
    assert (
        "The record constrains no parameter: none has a posterior 90% interval "
        "under 70% of its prior's width. All stay about as wide as their priors: "
        "trust.default." in md
    )


def test_empty_label_unit_and_band_fall_back(tmp_path: Path) -> None:
    out = make_calibration(tmp_path / "plain")
    targets = pd.read_csv(out / "targets.csv")
    targets.loc[2, ["label", "unit", "low", "high"]] = np.nan  # a point fact, bare
    targets.to_csv(out / "targets.csv", index=False)
    check = target_checks(read_calibration(out))[2]
    assert (check.label, check.unit, check.low, check.high) == ("strength_2024", "", 3000, 3000)
    assert check.verdict == TOO_LOW
    cal = read_calibration(out)
    md = calibration_report.to_markdown(cal, target_checks(cal), parameter_checks(cal), {})
    assert not re.search(r"\bnan\b", md, re.IGNORECASE)


def test_figures_read_at_a_glance(many: Path) -> None:
    """No clipped text, overlapping ticks or legend over data, even with eight parameters.

    Rows of the predictive check are named by their tick labels, and the corner plot names
    each row once, on its first panel: those axes need no y label of their own.
    """
    cal = read_calibration(many)
    targets, parameters = target_checks(cal), parameter_checks(cal)
    figures = {
        "predictive": calibration_report.predictive_check_figure(cal, targets),
        "marginals": calibration_report.marginals_figure(cal, parameters),
        "pairs": calibration_report.pairs_figure(cal, pair_parameters(parameters)),
        "history": calibration_report.history_figure(cal.history),
    }
    try:
        for name, fig in figures.items():
            found = problems(fig)
            if name in ("predictive", "pairs"):
                found = [p for p in found if not p.endswith("y axis unlabelled")]
            assert found == [], name
        assert len(figures["marginals"].axes) == 8
        assert len(figures["pairs"].axes) == MAX_PAIR_PARAMETERS * (MAX_PAIR_PARAMETERS + 1) // 2
    finally:
        for fig in figures.values():
            plt.close(fig)  # later tests check that drawing leaves no figure open
