"""scenarios links: every coalition runs, link values add up, bad links exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import CONFIGS, cli_in_process, external_dask_cluster, run_cli

from scenarios.config import ConfigError
from scenarios.decision.links import LinksSpec, parse_links
from scenarios.experiment.executor import read_results

ACTORS = ["us", "russia", "taliban", "pakistan", "iran"]


def test_parse_links_and_the_coalition_design() -> None:
    links = parse_links("us>russia,taliban>us", ACTORS)
    assert [link.paths for link in links] == [
        ("sharing.policy.us.russia",),
        ("sharing.policy.taliban.us",),
    ]
    pairs = parse_links("us-russia", ACTORS, pairs=True)
    assert pairs[0].paths == ("sharing.policy.us.russia", "sharing.policy.russia.us")
    assert len(parse_links(None, ACTORS)) == 6
    assert len(parse_links(None, ACTORS, pairs=True)) == 3
    from scenarios.decision.links import links_spec

    spec = links_spec(
        "x", "b.yaml", pairs + links[1:], level=0.6, replications=2, seed=1, outcomes=["fatalities"]
    )
    assert isinstance(spec, LinksSpec)
    design = spec.design()
    # mask 1: the us-russia pair on (both directions); mask 2: taliban>us on; 3: all
    np.testing.assert_allclose(design, [[0, 0, 0], [0.6, 0.6, 0], [0, 0, 0.6], [0.6, 0.6, 0.6]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("us>mars", "not an actor"),
        ("us>us", "to itself"),
        ("us>russia,us>russia", "twice"),
        ("us-russia", "not a link"),
    ],
)
def test_bad_links_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_links(text, ACTORS)


def test_bad_links_exit_2_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = cli_in_process(
        monkeypatch, capsys, "links", CONFIGS / "baseline.yaml", "--links", "us>mars", "--out", out
    )
    assert code == 2
    assert "not an actor" in err
    assert not out.exists()


ARGS = ("--links", "us>russia,taliban>us", "-n", "6", "--steps", "26")


@pytest.mark.slow
def test_link_values_add_up_to_the_full_coalition_effect(tmp_path: Path) -> None:
    out = tmp_path / "links"
    res = run_cli("links", CONFIGS / "baseline.yaml", *ARGS, "--workers", "2", "--out", out)
    assert res.returncode == 0, res.stderr
    values = pd.read_csv(out / "links.csv")
    results = read_results(out)
    assert sorted(results.point.unique()) == [0, 1, 2, 3]  # every coalition ran ...
    assert results.groupby("point").seed.apply(tuple).nunique() == 1  # ... with the same seeds
    for outcome, part in values.groupby("outcome"):
        means = results.groupby("point")[outcome].mean()
        # efficiency: the link values sum to all links' effect against none
        assert part.shapley.sum() == pytest.approx(means[3] - means[0], abs=1e-9)
        assert part.full_effect.iloc[0] == pytest.approx(means[3] - means[0], abs=1e-9)
        assert (part.ci_low <= part.shapley + 1e-12).all()
        assert (part.shapley <= part.ci_high + 1e-12).all()
    # US material is exposed only when the US shares: the taliban>us link exposes none of it
    us = values[values.outcome == "ci_exposure__us"].set_index("link").shapley
    assert us["us>russia"] > 0
    assert us["taliban>us"] == pytest.approx(0.0, abs=0.5)
    report = (out / "report.md").read_text()
    assert "What each link buys, and what it exposes" in report
    assert "`us>russia`: attacks in Russia" in report
    assert (out / "plots" / "tradeoff.png").exists()
    with external_dask_cluster(2) as address:
        remote = tmp_path / "remote"
        res = run_cli(
            "links", CONFIGS / "baseline.yaml", *ARGS, "--scheduler", address, "--out", remote
        )
        assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(pd.read_csv(remote / "links.csv"), values)
