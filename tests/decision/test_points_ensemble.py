"""links and optimise over a posterior ensemble: replication r of every point uses draw r.

The coalitions of a links game (and a search's candidates) stay paired: the same seed and
the same parameter draw at the same replication index. The runs must really use the
draws (rows record them, and a run equals the model run with the draw's values set), the
Shapley values must still add up, and a resume must refuse another ensemble.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import (
    CONFIGS,
    ROOT,
    cli_in_process,
    external_dask_cluster,
    run_cli,
    small_optimisation,
)

from scenarios.config import ConfigError, load_config
from scenarios.experiment.ensemble import load_posterior, plan_ensemble, points_ensemble
from scenarios.experiment.errors import OutputError
from scenarios.experiment.executor import execute_sweep, read_results

POSTERIOR = ROOT / "experiments" / "posteriors" / "historical_2022_2024"
SCENARIO = CONFIGS / "historical_2022_2024.yaml"
ARGS = ("--links", "us>russia,taliban>us", "-n", "6", "--steps", "8", "--workers", "2")


def test_an_ensemble_parameter_that_is_also_a_link_or_lever_is_refused(tmp_path: Path) -> None:
    config = load_config(SCENARIO)
    posterior = load_posterior(POSTERIOR)
    name = posterior.parameters[0]
    with pytest.raises(ConfigError, match=f"calibrated parameter {name!r} is also a lever"):
        points_ensemble(POSTERIOR, config, 4, 2, [name], "lever")
    section = name.rsplit(".", 1)[0]
    with pytest.raises(ConfigError, match="also a link"):
        points_ensemble(POSTERIOR, config, 4, 2, [section], "link")
    with pytest.raises(ConfigError, match="not a directory"):
        points_ensemble(tmp_path / "none", config, 4, 2, [], "link")


def test_links_with_a_bad_ensemble_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = cli_in_process(
        monkeypatch, capsys, "links", SCENARIO, *ARGS, "--ensemble", tmp_path, "--out", out
    )
    assert code == 2
    assert "no manifest.json" in err
    assert not out.exists()
    code, err = cli_in_process(monkeypatch, capsys, "links", SCENARIO, "--per-draw", "2")
    assert code == 2
    assert "--per-draw needs --ensemble" in err


@pytest.mark.slow
def test_links_over_an_ensemble_are_paired_use_the_draws_and_add_up(tmp_path: Path) -> None:
    out = tmp_path / "ens"
    res = run_cli("links", SCENARIO, *ARGS, "--ensemble", POSTERIOR, "--out", out)
    assert res.returncode == 0, res.stderr
    results = read_results(out)
    config = load_config(SCENARIO, [("run.steps", 8)])
    ensemble = plan_ensemble(load_posterior(POSTERIOR), config.run.seed, 6, 2)
    # rows record the draw and particle of their replication, the same in every coalition
    for _, part in results.groupby("point"):
        assert part.draw.tolist() == ensemble.draw_of().tolist()
        assert part.particle.tolist() == ensemble.particle_of().tolist()
    assert results.particle.nunique() > 1

    # a run is the model run of its coalition with its draw's parameters set
    from scenarios.experiment.seeds import replication_sequence
    from scenarios.model.simulation import run_replication

    posterior = ensemble.posterior
    run = results[(results.point == 3) & (results.replication == 4)].iloc[0]
    particle = int(run["particle"])
    overrides = [(f"{p}", 0.7) for p in ("sharing.policy.us.russia", "sharing.policy.taliban.us")]
    overrides += [
        (name, float(v))
        for name, v in zip(posterior.parameters, posterior.values[particle], strict=True)
    ]
    overrides.append(("run.steps", 8))
    seed = int(results.seed[(results.point == 3) & (results.replication == 4)].iloc[0])
    _, summary = run_replication(load_config(SCENARIO, overrides), replication_sequence(seed))
    for column in ("attacks_successful", "ci_exposure__us", "attacks_successful__russia"):
        assert run[column] == pytest.approx(summary[column], abs=1e-12)

    # Shapley efficiency still holds
    values = pd.read_csv(out / "links.csv")
    for outcome, part in values.groupby("outcome"):
        means = results.groupby("point")[outcome].mean()
        assert part.shapley.sum() == pytest.approx(means[3] - means[0], abs=1e-9)
    assert (
        "parameter draw i // 2 of calibration `historical_2022_2024`"
        in (out / "report.md").read_text()
    )

    # without the ensemble: the same seeds, other parameters, another summary
    plain = tmp_path / "plain"
    res = run_cli("links", SCENARIO, *ARGS, "--out", plain)
    assert res.returncode == 0, res.stderr
    without = read_results(plain)
    assert "particle" not in without.columns
    assert without.seed.tolist() == results.seed.tolist()
    assert not np.array_equal(
        without.attacks_successful.to_numpy(), results.attacks_successful.to_numpy()
    )

    # on an external Dask scheduler: the same runs
    with external_dask_cluster(2) as address:
        remote = tmp_path / "remote"
        res = run_cli(
            "links", SCENARIO, *ARGS[:-2], "--ensemble", POSTERIOR, "--scheduler", address,
            "--out", remote,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(read_results(remote), results)

    # resuming with another ensemble (or none) is refused
    res = run_cli("links", SCENARIO, *ARGS, "--resume", "--out", out)
    assert res.returncode == 2
    assert "cannot resume" in res.stderr
    assert "no ensemble" in res.stderr
    res = run_cli(
        "links", SCENARIO, *ARGS, "--ensemble", POSTERIOR, "--per-draw", "3", "--resume",
        "--out", out,
    )  # fmt: skip
    assert res.returncode == 2
    res = run_cli("links", SCENARIO, *ARGS, "--ensemble", POSTERIOR, "--resume", "--out", out)
    assert res.returncode == 0, res.stderr


def test_a_sweep_refuses_an_ensemble_of_another_size(tmp_path: Path) -> None:
    from scenarios.decision.links import links_spec, parse_links

    config = load_config(SCENARIO, [("run.steps", 4)])
    spec = links_spec(
        "x",
        str(SCENARIO),
        parse_links("us>russia", list(config.actors)),
        level=0.5,
        replications=4,
        seed=config.run.seed,
        outcomes=["attacks_successful"],
    )
    ensemble = plan_ensemble(load_posterior(POSTERIOR), config.run.seed, 6, 2)
    raw = config.model_dump(mode="json")
    with pytest.raises(ValueError, match="6 replications"):
        execute_sweep(spec, raw, tmp_path / "x", workers=1, ensemble=ensemble)
    assert not (tmp_path / "x").exists()
    with pytest.raises(OutputError, match="nothing to resume"):
        execute_sweep(spec, raw, tmp_path / "x", workers=1, resume=True)


@pytest.mark.slow
def test_optimise_over_an_ensemble(tmp_path: Path) -> None:
    path, spec = small_optimisation(
        tmp_path, levers=2, steps=8, replications=4, population=4, generations=1, reevaluate=2
    )
    out = tmp_path / "out"
    res = run_cli("optimise", path, "--workers", "2", "--ensemble", POSTERIOR, "--out", out)
    assert res.returncode == 0, res.stderr
    generation = read_results(out / "generations" / "gen-000")
    posterior = load_posterior(POSTERIOR)
    planned = plan_ensemble(posterior, spec["seed"], 4, 2)
    for _, part in generation.groupby("point"):
        assert part.particle.tolist() == planned.particle_of().tolist()
    fresh = read_results(out / "reevaluation")
    assert (
        fresh.particle.tolist()[:2]
        == plan_ensemble(posterior, spec["seed"] + 1, 2, 2).particle_of().tolist()
    )
    assert "calibration `historical_2022_2024`" in (out / "report.md").read_text()
    res = run_cli("optimise", path, "--resume", "--out", out)
    assert res.returncode == 2
    assert "no ensemble" in res.stderr
