"""Calibration files: the scenario, the parameters' priors, the targets from the record.

A calibration file (``configs/calibration/*.yaml``) names a scenario config, the
parameters to calibrate by dotted config path with a prior (uniform or log-uniform
between bounds), the targets (a statistic of one replication, with the record's value and
band) and the budget of the ABC-SMC. Everything is checked before anything runs: the
paths against the config schema, both ends of every prior against the config's rules,
the statistics' columns against the outputs the scenario will have, and their windows
against its dates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scenarios.config import (
    ConfigError,
    ScenarioConfig,
    load_named_scenario,
    path_exists,
    read_yaml,
    validate_spec,
)
from scenarios.experiment.sweep import PointConfigs
from scenarios.names import NAME_RULE, PlainName


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Prior(_Spec):
    """The prior of one calibrated parameter: uniform on [low, high]."""

    distribution: Literal["uniform"] = Field(
        "uniform", description="uniform (the one prior shape the report draws so far)."
    )
    bounds: tuple[float, float] = Field(description="[low, high], in the parameter's unit.")
    label: str = Field("", description="What the parameter is, in words (for the report).")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        low, high = self.bounds
        if not low < high:
            raise ValueError(f"bounds {list(self.bounds)}: low must be below high")
        return self

    @property
    def low(self) -> float:
        """Lower bound."""
        return self.bounds[0]

    @property
    def high(self) -> float:
        """Upper bound."""
        return self.bounds[1]

    def quantile(self, q: np.ndarray | float) -> np.ndarray:
        """Inverse CDF at ``q`` in [0, 1]."""
        return self.low + np.asarray(q, dtype=float) * (self.high - self.low)


class Window(_Spec):
    """A span of calendar dates; a week counts when its first day lies inside."""

    start: date = Field(description="First day (YYYY-MM-DD).")
    end: date = Field(description="Last day (YYYY-MM-DD), on or after start.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Statistic(_Spec):
    """What a target measures in one replication.

    - ``total``: the sum of the weekly ``columns`` over the weeks of ``window``;
    - ``mean``: the mean over those weeks of the sum of the weekly ``columns``;
    - ``summary``: ``sum(weights[i] * summary[columns[i]])`` over summary.parquet columns
      (weights default to 1), e.g. the change of the share abroad from the first to the
      last year is ``share_abroad_last_year - share_abroad_first_year``.

    The result is multiplied by ``factor`` (e.g. 100 for a percentage).
    """

    kind: Literal["total", "mean", "summary"] = Field(description="total, mean or summary.")
    columns: list[PlainName] = Field(min_length=1, description="Weekly or summary columns.")
    weights: list[float] | None = Field(
        None, description="summary only: one weight per column (default: all 1)."
    )
    window: Window | None = Field(None, description="total and mean: the weeks counted.")
    factor: float = Field(1.0, description="Multiplier of the result (e.g. 100 for percent).")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == "summary":
            if self.window is not None:
                raise ValueError("window: a summary statistic has no window")
            if self.weights is not None and len(self.weights) != len(self.columns):
                raise ValueError(
                    f"weights: {len(self.weights)} weights for {len(self.columns)} columns"
                )
        else:
            if self.window is None:
                raise ValueError(f"window: a {self.kind} statistic needs a window")
            if self.weights is not None:
                raise ValueError(f"weights: only a summary statistic has weights ({self.kind})")
        return self


class Target(_Spec):
    """One fact of the record and the statistic of a run it is compared with.

    Distance of a simulated value x: 0 inside the band [low, high], else its distance to
    the band divided by ``scale`` (so one ``scale`` outside the band counts 1).
    """

    label: str = Field(description="The fact, in words (for the report).")
    unit: str = Field("", description="Unit of the statistic (e.g. attacks, percent).")
    observed: float | None = Field(
        None,
        description="The record's value; default: the band's centre (a record that gives "
        "only a range or a direction).",
    )
    band: tuple[float, float] | None = Field(
        None,
        description="[low, high] the record allows (sources disagree, ranges, a "
        "direction); default: the observed point.",
    )
    scale: float = Field(gt=0, description="Distance scale, in the statistic's unit (> 0).")
    weight: float = Field(1.0, gt=0, description="Weight of this target in the distance.")
    fact: str = Field("", description="Row(s) of reference/facts.csv it comes from.")
    source: str = Field("", description="Who reports the fact.")
    note: str = Field("", description="Why this band and scale; caveats.")
    statistic: Statistic

    @model_validator(mode="after")
    def _band(self) -> Self:
        if self.band is None:
            if self.observed is None:
                raise ValueError("give the record's value (observed), its band, or both")
            self.band = (self.observed, self.observed)
        low, high = self.band
        if not low <= high:
            raise ValueError(f"band {list(self.band)}: low must not exceed high")
        if self.observed is None:
            self.observed = (low + high) / 2
        if not low <= self.observed <= high:
            raise ValueError(f"observed {self.observed} lies outside its band {[low, high]}")
        return self

    @property
    def limits(self) -> tuple[float, float]:
        """The band [low, high] (the observed point twice if the record gives no band)."""
        assert self.band is not None  # set by the validator
        return self.band

    @property
    def value(self) -> float:
        """The record's value (the band's centre if the record gives none)."""
        assert self.observed is not None  # set by the validator
        return self.observed


class Budget(_Spec):
    """How much ABC-SMC to do, and when to stop."""

    population: int = Field(300, ge=10, le=100_000, description="Particles per generation.")
    max_generations: int = Field(8, ge=1, le=100, description="Stop after this many.")
    max_simulations: int = Field(
        100_000, ge=10, le=100_000_000, description="Stop once this many runs are spent."
    )
    minimum_epsilon: float = Field(
        0.0, ge=0, description="Stop once epsilon (the distance threshold) is at most this."
    )
    min_acceptance_rate: float = Field(
        0.01, ge=0, le=1, description="Stop once a generation accepts fewer than this share."
    )
    quantile: float = Field(
        0.5, gt=0, lt=1, description="Next epsilon: this weighted quantile of the distances."
    )
    kernel_scaling: float = Field(
        2.0,
        gt=0,
        le=10,
        description="Width of the proposal kernel relative to pyABC's default (Silverman's "
        "rule on the last population). Wider keeps the weights even (a higher effective "
        "sample size) when the posterior stays broad in many dimensions, at some cost in "
        "acceptance.",
    )
    predictive_draws: int = Field(
        200, ge=10, le=100_000, description="Posterior (and prior) predictive simulations."
    )


# Budget settings that shape each generation (the rest only say when to stop).
GENERATION_SETTINGS = ("population", "quantile", "kernel_scaling")


class CalibrationSpec(_Spec):
    """A calibration (YAML, unknown keys rejected)."""

    name: PlainName = Field(description=f"Calibration id (output folder name): {NAME_RULE}.")
    description: str = Field("", description="What is calibrated against what.")
    scenario: str = Field(description="Scenario config (path relative to this file).")
    seed: int = Field(20240322, ge=0, le=2**63 - 1, description="Root seed of everything.")
    parameters: dict[str, Prior] = Field(description="Dotted config path -> prior.")
    targets: dict[PlainName, Target] = Field(description="Name -> target.")
    budget: Budget = Field(default_factory=Budget)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.parameters:
            raise ValueError("parameters: name at least one parameter to calibrate")
        if not self.targets:
            raise ValueError("targets: name at least one target")
        return self

    def digest(self) -> str:
        """Hash of everything that decides each generation's particles.

        Not the stopping rules nor the predictive draws: a finished calibration can be
        resumed with a larger budget, and continues as if it had had it from the start.
        """
        data = self.model_dump(mode="json")
        data["budget"] = {k: data["budget"][k] for k in GENERATION_SETTINGS}
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def weekly_columns(config: ScenarioConfig) -> list[str]:
    """The weekly (timeseries) columns a replication of ``config`` has, without a run."""
    from scenarios.model.outcomes import Recorder

    countries = tuple(dict.fromkeys(r.country for r in config.regions.values()))
    return list(Recorder(1, countries, tuple(config.actors)).columns())


def load_calibration(path: Path) -> tuple[CalibrationSpec, dict[str, Any], ScenarioConfig]:
    """Read and check a calibration file; return it, the raw scenario and its config.

    ConfigError (exit 2) on the first problem, before anything runs.
    """
    from scenarios.experiment.experiment import outcome_columns

    raw = read_yaml(path, "calibration")
    spec = validate_spec(CalibrationSpec, raw, str(path))
    source = str(path)
    raw_base = load_named_scenario(path, spec.scenario)
    names = list(spec.parameters)
    points = PointConfigs(raw_base, names)
    for name in spec.parameters:
        if not path_exists(ScenarioConfig, name.split(".")):
            raise ConfigError(
                f"parameters.{name}: not a config path (run `scenarios schema`)", source=source
            )
    lows = np.array([p.low for p in spec.parameters.values()])
    highs = np.array([p.high for p in spec.parameters.values()])
    for label, values in (("low", lows), ("high", highs)):
        try:
            config = points.config(values)
        except ConfigError as exc:
            raise ConfigError(
                f"parameters: the {label} ends of the priors are not a valid config ({exc})",
                source=source,
            ) from None
    weekly = set(weekly_columns(config))
    summary = set(outcome_columns(config))
    first = config.run.start
    last = first + timedelta(days=7 * config.run.steps - 1)  # last day of the last week
    for name, target in spec.targets.items():
        stat = target.statistic
        known = summary if stat.kind == "summary" else weekly
        what = "summary.parquet" if stat.kind == "summary" else "weekly (timeseries)"
        for column in stat.columns:
            if column not in known:
                raise ConfigError(
                    f"targets.{name}.statistic.columns: {column!r} is not a {what} column of "
                    "the scenario (see `scenarios outcomes`)",
                    source=source,
                )
        slack = timedelta(days=7)  # a window may start or end within a week of the run
        window = stat.window
        if window is not None and (window.start < first - slack or window.end > last + slack):
            raise ConfigError(
                f"targets.{name}.statistic.window: {window.start} .. {window.end} is not "
                f"inside the scenario's weeks ({first} .. {last}, give or take a week)",
                source=source,
            )
    return spec, raw_base, config
