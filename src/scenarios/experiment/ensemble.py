"""Posterior ensembles: replications that also vary the parameters the record leaves open.

A calibration (``scenarios calibrate``) writes a posterior directory:

- ``posterior.parquet``: ``particle`` (int64, 0..n-1), ``weight`` (float64, summing to 1),
  then one float64 column per calibrated parameter, named by its dotted config path;
- ``manifest.json``: ``kind: calibration``, ``name``, ``scenario``, ``seed``, ``status``
  (``complete`` once finished) and ``parameters`` (dotted path -> prior).

A run over the ensemble resamples the particles by weight into draws, with a generator
keyed by the run's root seed (never global state), and gives replication ``i`` the
parameters of draw ``i // K`` (``K`` replications per draw). Every scenario of an
experiment shares root seed and replications, so replication ``i`` of each uses the same
seed *and* the same parameter set: scenarios stay paired, and a difference's spread now
carries parameter uncertainty as well as chance. With ``K >= 2`` the two can be told apart
(:func:`scenarios.experiment.stats.variance_components`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scenarios.config import ConfigError, ScenarioConfig, path_exists
from scenarios.experiment import store

if TYPE_CHECKING:  # the runner imports the model: not needed to read a manifest
    from scenarios.experiment.runner import ReplicationParameters

POSTERIOR = "posterior.parquet"
MANIFEST = "manifest.json"
# Mixed with the root seed for the resampling generator: draws never share a stream with
# the replications spawned from the root seed alone.
RESAMPLING_KEY = 0x656E7365  # "ense"
DEFAULT_PER_DRAW = 2
# Columns added to summary.parquet of a run over an ensemble (after replication and seed).
DRAW_COLUMNS = ("draw", "particle")
WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Posterior:
    """A finished calibration's weighted particles, read and checked."""

    directory: Path
    name: str
    scenario: str
    digest: str  # SHA-256 of posterior.parquet
    parameters: tuple[str, ...]  # dotted config paths
    values: np.ndarray  # (particles, parameters)
    weights: np.ndarray  # (particles,), summing to 1

    @property
    def particles(self) -> int:
        """Number of weighted particles."""
        return len(self.weights)


def _bad(directory: Path, message: str) -> ConfigError:
    return ConfigError(f"ensemble {directory}: {message}")


def load_posterior(directory: Path) -> Posterior:
    """Read a calibration's posterior directory; ConfigError (exit 2) if it is not usable.

    Refused: a missing directory or file, a manifest that is not a finished calibration,
    columns other than the contract's, particles not numbered 0..n-1, weights that are
    negative, not finite or do not sum to 1, non-finite parameter values.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise _bad(directory, "not a directory (a posterior written by `scenarios calibrate`)")
    for name in (MANIFEST, POSTERIOR):
        if not (directory / name).is_file():
            raise _bad(directory, f"no {name}; is this a calibration's output directory?")
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise _bad(directory, f"{MANIFEST} cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "calibration":
        raise _bad(directory, f"{MANIFEST} is not a calibration's manifest (kind: calibration)")
    if manifest.get("status") != "complete":
        raise _bad(
            directory,
            f"calibration status is {manifest.get('status')!r}, not 'complete'; finish it "
            "(scenarios calibrate --resume) before running over its posterior",
        )
    declared = manifest.get("parameters")
    if not isinstance(declared, dict) or not declared:
        raise _bad(directory, f"{MANIFEST} names no calibrated parameters")
    try:
        frame = pd.read_parquet(directory / POSTERIOR)
    except (OSError, ValueError) as exc:
        raise _bad(directory, f"{POSTERIOR} cannot be read ({exc})") from None
    columns = list(frame.columns)
    if columns[:2] != ["particle", "weight"]:
        raise _bad(directory, f"{POSTERIOR} must start with columns particle, weight")
    names = tuple(str(c) for c in columns[2:])
    if set(names) != set(declared):
        raise _bad(
            directory,
            f"{POSTERIOR} has parameter columns {sorted(names)}, its manifest names "
            f"{sorted(declared)}",
        )
    if len(frame) == 0:
        raise _bad(directory, f"{POSTERIOR} has no particles")
    particle = frame["particle"].to_numpy()
    if not np.issubdtype(particle.dtype, np.integer) or not np.array_equal(
        particle, np.arange(len(frame))
    ):
        raise _bad(directory, "particles must be numbered 0..n-1 in order")
    weights = frame["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise _bad(directory, "weights must be finite and not negative")
    if not math.isclose(float(weights.sum()), 1.0, abs_tol=WEIGHT_TOLERANCE):
        raise _bad(directory, f"weights sum to {weights.sum():.9g}, not 1")
    values = frame[list(names)].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise _bad(directory, "parameter values must be finite numbers")
    return Posterior(
        directory=directory.resolve(),
        name=str(manifest.get("name", directory.name)),
        scenario=str(manifest.get("scenario", "")),
        digest=store.file_sha256(directory / POSTERIOR),
        parameters=names,
        values=values,
        weights=weights / weights.sum(),
    )


@dataclass(frozen=True)
class Ensemble:
    """The parameter draws of one run: draw ``d`` is particle ``particles[d]``.

    Replication ``i`` uses draw ``i // per_draw``. The draws depend only on the posterior,
    the root seed, the number of replications and ``per_draw``, so every scenario run
    with the same ones uses the same parameters at the same replication index.
    """

    posterior: Posterior
    per_draw: int
    replications: int
    particles: np.ndarray  # particle index of each draw

    @property
    def draws(self) -> int:
        """Number of parameter draws."""
        return len(self.particles)

    def draw_of(self) -> np.ndarray:
        """Draw index of every replication."""
        return np.arange(self.replications, dtype=np.int64) // self.per_draw

    def particle_of(self) -> np.ndarray:
        """Particle index of every replication."""
        return self.particles[self.draw_of()].astype(np.int64)

    def parameters(self) -> ReplicationParameters:
        """The per-replication values for the runner."""
        from scenarios.experiment.runner import ReplicationParameters

        return ReplicationParameters(
            self.posterior.parameters, self.posterior.values, self.particle_of()
        )

    def record(self) -> dict[str, Any]:
        """What the run's manifest records of the ensemble (and reuse checks)."""
        return {
            "directory": str(self.posterior.directory),
            "calibration": self.posterior.name,
            "calibration_scenario": self.posterior.scenario,
            "posterior_sha256": self.posterior.digest,
            "particles": self.posterior.particles,
            "parameters": list(self.posterior.parameters),
            "replications_per_draw": self.per_draw,
            "draws": self.draws,
            "resampling_key": RESAMPLING_KEY,
        }

    def annotate(self, summary: pd.DataFrame) -> pd.DataFrame:
        """``summary`` with the ``draw`` and ``particle`` of each replication after ``seed``."""
        out = summary.copy()
        replication = out["replication"].to_numpy(dtype=np.int64)
        draw = replication // self.per_draw
        out.insert(2, "draw", draw)
        out.insert(3, "particle", self.particles[draw].astype(np.int64))
        return out


def plan_ensemble(
    posterior: Posterior, root_seed: int, replications: int, per_draw: int = DEFAULT_PER_DRAW
) -> Ensemble:
    """Resample the particles by weight into ``ceil(replications / per_draw)`` draws.

    Multinomial resampling with a generator seeded by ``SeedSequence([root_seed,
    RESAMPLING_KEY])``: the same root seed gives the same draws in every scenario.
    """
    if per_draw < 1:
        raise ConfigError(f"replications per draw: {per_draw} is not a positive integer")
    draws = -(-replications // per_draw)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([root_seed, RESAMPLING_KEY])))
    particles = rng.choice(posterior.particles, size=draws, replace=True, p=posterior.weights)
    return Ensemble(posterior, per_draw, replications, particles.astype(np.int64))


def check_ensemble(ensemble: Ensemble, config: ScenarioConfig, source: str | None = None) -> None:
    """Refuse an ensemble ``config`` cannot run: an unknown path, a value it does not allow.

    Every drawn particle's config is validated (as ``--set`` would), before any run.
    """
    from scenarios.experiment.sweep import PointConfigs  # imports SALib lazily only

    posterior = ensemble.posterior
    where = f"ensemble {posterior.directory}"
    for name in posterior.parameters:
        if not path_exists(ScenarioConfig, name.split(".")):
            raise ConfigError(
                f"{where}: parameter {name!r} is not a config path of scenario "
                f"{config.name!r} (run `scenarios schema`)",
                source=source,
            )
    points = PointConfigs(config.model_dump(mode="json"), list(posterior.parameters))
    for particle in np.unique(ensemble.particles):
        values = posterior.values[particle]
        try:
            points.config(values)
        except ConfigError as exc:
            shown = ", ".join(
                f"{n}={v:.6g}" for n, v in zip(posterior.parameters, values, strict=True)
            )
            raise ConfigError(
                f"{where}: particle {int(particle)} is not a valid value for scenario "
                f"{config.name!r}: {exc} (values: {shown})",
                source=source,
            ) from None


def recorded_ensemble(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The ensemble a run's manifest records (None for a run without one)."""
    ensemble = manifest.get("ensemble")
    return ensemble if isinstance(ensemble, dict) else None


def same_ensemble(recorded: dict[str, Any] | None, ensemble: Ensemble | None) -> bool:
    """Whether a recorded ensemble is the one a run would use now (both None: yes)."""
    if ensemble is None or recorded is None:
        return ensemble is None and recorded is None
    wanted = ensemble.record()
    keys = ("posterior_sha256", "parameters", "replications_per_draw", "draws", "resampling_key")
    return all(recorded.get(k) == wanted[k] for k in keys)


def points_ensemble(
    directory: Path,
    config: ScenarioConfig,
    replications: int,
    per_draw: int,
    varied: list[str],
    what: str,
    source: str | None = None,
) -> Ensemble:
    """The ensemble of a sweep over given points (links' coalitions, a search's candidates).

    Planned with ``config.run.seed`` (the sweep's root seed) for ``replications``, so
    replication r of every point gets the same draw. ConfigError (exit 2) if a calibrated
    parameter is also one of the ``varied`` paths (``what`` says what they are: "link",
    "lever"), or if ``config`` cannot run a drawn particle (:func:`check_ensemble`).
    """
    posterior = load_posterior(directory)
    for name in posterior.parameters:
        clash = [
            p for p in varied if p == name or p.startswith(name + ".") or name.startswith(p + ".")
        ]
        if clash:
            raise ConfigError(
                f"--ensemble {directory}: calibrated parameter {name!r} is also a {what} "
                f"({clash[0]}); a run cannot take it from both",
                source=source,
            )
    ensemble = plan_ensemble(posterior, config.run.seed, replications, per_draw)
    check_ensemble(ensemble, config, source)
    return ensemble


def ensemble_sentence(posterior: Posterior, per_draw: int, what: str) -> str:
    """The reports' sentence on a posterior that points (``what``: "coalition") ran over."""
    return (
        f"Replication i of every {what} ran with parameter draw i // {per_draw} of "
        f"calibration `{posterior.name}` ({posterior.particles} weighted particles, "
        "resampled by weight with the root seed), so the intervals carry parameter "
        "uncertainty as well as chance."
    )
