"""Sweep definitions: which config parameters to vary, how, and how often.

A sweep file (``configs/sweeps/*.yaml``) names a base scenario, the parameters to vary by
dotted config path with bounds (and a SALib distribution where wanted), the design method
and size, the replications per sample point, the root seed and the outcomes to analyse.
Every sample point runs the same replication seeds (common random numbers across points).

A sweep may declare a ``contrast``: config overrides (e.g. the trilateral sharing policies
on) applied on top of each sample point. Every run then simulates both arms, the point
and the point with the contrast, with the same replication seed, and its row gains a
paired effect column ``effect:<outcome>`` (contrast arm minus base arm) for each summary
column; ``outcomes`` may name those effects (``effect:attack_risk__russia``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from scenarios.config import (
    _INDEX,
    ConfigError,
    ScenarioConfig,
    apply_overrides,
    is_integer_path,
    load_raw,
    path_exists,
    read_yaml,
    validate,
    validate_spec,
)
from scenarios.experiment.experiment import check_outcomes, outcome_columns
from scenarios.experiment.workload import sweep_workload
from scenarios.names import NAME_PATTERN, NAME_RULE, PlainName, plain_name

Method = Literal["sobol", "morris", "lhs", "grid"]
# Prefix of a paired effect column of a contrast sweep: ``effect:<summary column>``.
EFFECT = "effect:"


def outcome_name(value: str) -> str:
    """``value`` if it is a plain name or ``effect:`` and a plain name; else ValueError."""
    try:
        plain_name(value.removeprefix(EFFECT))
    except ValueError:
        raise ValueError(f"not an outcome name; {NAME_RULE}, optionally after '{EFFECT}'") from None
    return value


OutcomeName = Annotated[
    str,
    AfterValidator(outcome_name),
    WithJsonSchema({"type": "string", "pattern": f"^(effect:)?{NAME_PATTERN[1:]}"}),
]


def file_stem(outcome: str) -> str:
    """An outcome as part of a file name: ``effect:x`` becomes ``effect__x``."""
    return outcome.replace(":", "__")


class SweepParameter(BaseModel):
    """One varied parameter: bounds and (optionally) a SALib distribution."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    bounds: tuple[float, float] = Field(
        description="[low, high] for uniform; [mean, sd] for norm; see SALib for others."
    )
    distribution: Literal["unif", "triang", "norm", "truncnorm", "lognorm"] = Field(
        "unif", description="SALib distribution name (grid supports only unif)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        low, high = self.bounds
        if self.distribution in ("unif", "triang") and not low < high:
            raise ValueError(f"bounds {list(self.bounds)}: low must be below high")
        return self


class Contrast(BaseModel):
    """The policy a contrast sweep compares: overrides applied on top of each sample point."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    label: str = Field("contrast", max_length=200, description="What the contrast is, in words.")
    set: dict[str, Any] = Field(
        min_length=1, description="Dotted config path -> value (as --set would set it)."
    )


class SweepSpec(BaseModel):
    """A sensitivity sweep (YAML, unknown keys rejected)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: PlainName = Field(description=f"Sweep id (output folder name): {NAME_RULE}.")
    description: str = Field("", description="What the sweep is for.")
    base: str = Field(description="Base scenario config (path relative to the sweep file).")
    method: Method = Field(description="Design: sobol, morris, lhs or grid.")
    samples: int = Field(
        ge=1,
        le=1_000_000,
        description="Sobol' N (a power of two), Morris trajectories, LHS points, or grid "
        "levels per parameter.",
    )
    replications: int = Field(2, ge=1, le=10_000, description="Replications per sample point.")
    seed: int = Field(20240322, ge=0, description="Root seed of designs and replications.")
    steps: int | None = Field(None, ge=1, le=5200, description="Override run.steps (weeks).")
    second_order: bool = Field(False, description="Sobol': also estimate S2 (doubles runs).")
    levels: int = Field(4, ge=2, le=20, description="Morris grid levels.")
    chunk_size: int | None = Field(
        None, ge=1, le=100_000, description="Runs per chunk (default: about 2 s of work)."
    )
    parameters: dict[str, SweepParameter] = Field(description="Dotted config path -> range.")
    contrast: Contrast | None = Field(
        None,
        description="Overrides to compare against each point without them: every run then "
        "simulates both arms with the same seed and gains effect:<outcome> columns.",
    )
    outcomes: list[OutcomeName] = Field(
        default_factory=lambda: ["attacks_successful", "fatalities", "mass_casualty_attacks"],
        min_length=1,
        description="summary.parquet columns to analyse (averaged over replications), or with "
        "a contrast their paired effects (effect:<column>); they name plot files, so each is "
        "a plain name (effect:x is drawn as effect__x).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.parameters:
            raise ValueError("parameters: name at least one parameter to vary")
        if self.method == "sobol" and (self.samples & (self.samples - 1)) != 0:
            lower = 1 << (self.samples.bit_length() - 1)
            raise ValueError(
                f"samples: Sobol' needs a power of two, got {self.samples} "
                f"(try {lower} or {2 * lower})"
            )
        if self.method == "grid":
            odd = [p for p, s in self.parameters.items() if s.distribution != "unif"]
            if odd:
                raise ValueError(f"parameters: grid supports only unif distributions ({odd})")
        effects = [o for o in self.outcomes if o.startswith(EFFECT)]
        if effects and self.contrast is None:
            raise ValueError(
                f"outcomes: {effects[0]!r} is a paired effect, which needs a contrast "
                "(contrast: {set: {PATH: VALUE}})"
            )
        return self

    def arms(self) -> int:
        """Simulations per run: 2 with a contrast (both arms), else 1."""
        return 1 if self.contrast is None else 2

    def problem(self) -> dict[str, Any]:
        """SALib's problem dict."""
        return {
            "num_vars": len(self.parameters),
            "names": list(self.parameters),
            "bounds": [list(p.bounds) for p in self.parameters.values()],
            "dists": [p.distribution for p in self.parameters.values()],
        }

    def design(self) -> np.ndarray:
        """The sample points (rows) in parameter order, integers rounded."""
        from scenarios.experiment import designs  # SALib: not needed on sweep workers

        kwargs: dict[str, Any] = {}
        if self.method == "sobol":
            kwargs["second_order"] = self.second_order
        elif self.method == "morris":
            kwargs["levels"] = self.levels
        x = designs.SAMPLERS[self.method](self.problem(), self.samples, self.seed, **kwargs)
        for j, path in enumerate(self.parameters):
            if is_integer_path(path.split(".")):
                x[:, j] = np.round(x[:, j])
        return x

    def n_points(self) -> int:
        """Sample points the design will have."""
        from scenarios.experiment import designs

        return designs.design_size(
            self.method, self.samples, len(self.parameters), self.second_order
        )

    def identity(self) -> dict[str, Any]:
        """The definition as JSON data; without a contrast, as before contrasts existed."""
        data = self.model_dump(mode="json")
        if data.get("contrast") is None:
            data.pop("contrast", None)  # sweeps started before keep their digest
        return data

    def digest(self) -> str:
        """Identity of the sweep (a resumed sweep must match it); includes the contrast."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()


class SweepManifest(BaseModel):
    """The keys of a sweep's manifest.json that `analyse` reads, and their types."""

    model_config = ConfigDict(extra="allow")

    spec: SweepSpec
    points: StrictInt = Field(ge=1)
    runs: StrictInt = Field(ge=1)


class ResumableSweepManifest(SweepManifest):
    """What `sweep --resume` reads besides: the sweep's identity and chunking."""

    spec_hash: StrictStr
    chunk_size: StrictInt = Field(ge=1)
    # the finer last round of chunks (executor.default_tail); absent before it existed
    tail_runs: StrictInt = Field(default=0, ge=0)
    tail_size: StrictInt = Field(default=0, ge=0)


def point_config(raw_base: dict[str, Any], names: list[str], values: np.ndarray) -> ScenarioConfig:
    """The base config with one sample point's values set (validated).

    The plain path: the raw base with the values set, validated from scratch. A sweep
    builds its points through :class:`PointConfigs`, which gives the same configs faster.
    """
    return validate(apply_overrides(raw_base, _overrides(names, values)))


def _overrides(names: list[str], values: np.ndarray) -> list[tuple[str, Any]]:
    """(path, value) pairs of one sample point; integer fields get Python ints."""
    return [
        (name, int(v) if is_integer_path(name.split(".")) else float(v))
        for name, v in zip(names, values, strict=True)
    ]


class _PlainWayError(Exception):
    """A path the quick route does not take (a list position past its end); go the plain way."""


def _with_leaf(node: Any, parts: list[str], value: Any) -> Any:
    """``node`` as input for validation, with the leaf at ``parts`` set to ``value``.

    What ``set_dotted`` does to a raw mapping, done to validated data: along the path, a
    model becomes a mapping of its explicitly set fields (so the rebuilt model has the
    same set fields as one validated from the raw config), a mapping or list a shallow
    copy, anything else (a scalar, null, an unset field) a new mapping. Everything off the
    path stays as validated: sub-models are passed as instances, which pydantic keeps
    without validating them again (``revalidate_instances='never'``).
    """
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(node, BaseModel):
        if head not in type(node).model_fields:
            raise _PlainWayError(head)
        data: Any = {k: getattr(node, k) for k in node.model_fields_set}
        data[head] = _with_leaf(data.get(head), rest, value)
        return data
    if isinstance(node, dict):
        data = dict(node)
        data[head] = _with_leaf(data.get(head), rest, value)
        return data
    if isinstance(node, list):
        if not _INDEX.fullmatch(head) or int(head) >= len(node):
            raise _PlainWayError(head)
        data = list(node)
        data[int(head)] = _with_leaf(data[int(head)], rest, value)
        return data
    return _with_leaf({}, parts, value)


class PointConfigs:
    """Validated configs of a sweep's sample points, built from the base validated once.

    ``config(values)`` equals ``point_config(raw_base, names, values)``: the same config
    (fields, set fields, digest), accepted or refused alike, with the same error. A point
    differs from the base in a few leaves, so instead of validating the whole raw config
    again it validates the top level (every cross-reference check runs on the point's
    config) with the sections on the paths of the varied leaves rebuilt from their fields
    (each of them validated, with its own checks), and every other section passed as the
    base's validated instance. On the shipped Sobol' sweep a point's config costs a
    tenth of a millisecond instead of about half of one (``benchmarks/sweep_vs_ema.py``).

    A point the quick route refuses, a base that is not valid by itself, or a path the
    quick route does not take, goes the plain way (which then raises its own error).
    """

    def __init__(self, raw_base: dict[str, Any], names: list[str]) -> None:
        self.raw_base = raw_base
        self.names = list(names)
        self.paths = [name.split(".") for name in self.names]
        self.integer = [is_integer_path(parts) for parts in self.paths]
        try:
            self.base: ScenarioConfig | None = validate(raw_base)
        except ConfigError:
            self.base = None  # every point the plain way

    def config(self, values: np.ndarray) -> ScenarioConfig:
        """The validated config of one sample point (ConfigError if it is not valid)."""
        if self.base is not None:
            data: Any = self.base
            for parts, integer, v in zip(self.paths, self.integer, values, strict=True):
                try:
                    data = _with_leaf(data, parts, int(v) if integer else float(v))
                except _PlainWayError:
                    break
            else:
                try:
                    return ScenarioConfig.model_validate(data)
                except ValidationError:
                    pass  # the plain way raises the error as the user knows it
        return point_config(self.raw_base, self.names, values)


def load_sweep(path: Path, *, yes: bool = False) -> tuple[SweepSpec, dict[str, Any]]:
    """Read a sweep and its base config; check it all before anything runs.

    First its size, from arithmetic alone: beyond the limits of
    :mod:`scenarios.experiment.workload` it is refused (WorkloadError) unless ``yes``.
    Then every parameter at both ends of its range, then every sample point's config
    (drawn values, combinations; validation only, a tenth of a millisecond a point through
    :class:`PointConfigs`), then the outcomes against the summary columns those configs
    will produce (see ``outcome_columns``).
    """
    raw = read_yaml(path, "sweep")
    spec = validate_spec(SweepSpec, raw, str(path))
    base_path = (path.parent / spec.base).resolve()
    try:
        raw_base = load_raw(base_path)
    except ConfigError as exc:
        raise ConfigError(f"base: {exc}", source=str(path)) from None
    overrides: list[tuple[str, Any]] = [("run.seed", spec.seed)]
    if spec.steps is not None:
        overrides.append(("run.steps", spec.steps))
    raw_base = apply_overrides(raw_base, overrides)
    sweep_workload(spec, raw_base).check(yes)  # before the design is drawn
    for name, param in spec.parameters.items():
        if not path_exists(ScenarioConfig, name.split(".")):
            raise ConfigError(
                f"parameters.{name}: not a config path (run `scenarios schema`)", source=str(path)
            )
        ends = param.bounds if param.distribution in ("unif", "triang") else ()
        for end in ends:
            try:
                point_config(raw_base, [name], np.array([end]))
            except ConfigError as exc:
                raise ConfigError(
                    f"parameters.{name}: bound {end} is not a valid value ({exc})",
                    source=str(path),
                ) from None
    configs = check_points(spec, raw_base, str(path))
    arm = contrast_base(spec, raw_base, str(path))
    if arm is not None:
        configs += check_points(spec, arm, str(path), "with the contrast ")
    shared = set.intersection(*(set(outcome_columns(cfg)) for cfg in configs))
    columns = [c for c in outcome_columns(configs[0]) if c in shared]
    check_outcomes(spec.outcomes, [*columns, *(EFFECT + c for c in columns)], str(path))
    return spec, raw_base


def _overlaps(a: str, b: str) -> bool:
    """Whether one dotted path is the other or lies inside it."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def contrast_base(
    spec: SweepSpec, raw_base: dict[str, Any], source: str | None = None
) -> dict[str, Any] | None:
    """The base config with the sweep's contrast applied (None without a contrast).

    A sample point's contrast arm is this with the point's values set. ConfigError (exit 2)
    for a path that is not a config path, one of ``run`` (both arms must run the same
    replications), one that is (or contains, or lies inside) a swept parameter, a value the
    config does not allow, or a contrast that changes nothing.
    """
    if spec.contrast is None:
        return None
    for key in spec.contrast.set:
        where = f"contrast.set.{key}"
        if not path_exists(ScenarioConfig, key.split(".")):
            raise ConfigError(f"{where}: not a config path (run `scenarios schema`)", source=source)
        if _overlaps(key, "run"):
            raise ConfigError(
                f"{where}: both arms run the same replications, weeks and seeds; a contrast "
                "cannot set run.*",
                source=source,
            )
        swept = [p for p in spec.parameters if _overlaps(key, p)]
        if swept:
            raise ConfigError(
                f"{where}: also a swept parameter ({swept[0]}); the contrast must leave the "
                "swept parameters alone (drop it from one of them)",
                source=source,
            )
    try:
        arm = apply_overrides(raw_base, list(spec.contrast.set.items()))
        digest = validate(arm).digest()
    except ConfigError as exc:
        raise ConfigError(f"contrast: not a valid config ({exc})", source=source) from None
    if digest == validate(raw_base).digest():
        raise ConfigError(
            "contrast: changes nothing (the base config has these values already)", source=source
        )
    return arm


def check_points(
    spec: SweepSpec, raw_base: dict[str, Any], source: str, arm: str = ""
) -> list[ScenarioConfig]:
    """Validate every sample point's config; refuse the first bad one (index, values, error).

    ``arm`` names the arm in the error (``"with the contrast "``) when ``raw_base`` is
    the contrast's base.
    Returns one valid config per distinct horizon (``run.steps``) among the points.
    """
    names = list(spec.parameters)
    points = PointConfigs(raw_base, names)
    by_steps: dict[int, ScenarioConfig] = {}
    for i, values in enumerate(spec.design()):
        try:
            cfg = points.config(values)
        except ConfigError as exc:
            shown = ", ".join(f"{n}={v:.6g}" for n, v in zip(names, values, strict=True))
            raise ConfigError(
                f"parameters: sample point {i} {arm}is not a valid config: {exc} (values: {shown})",
                source=source,
            ) from None
        by_steps.setdefault(cfg.run.steps, cfg)
    return list(by_steps.values())
