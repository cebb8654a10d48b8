"""How much work a command asks for, estimated before any of it is done.

`run`, `experiment` and `sweep` compute their size arithmetically from the validated
input (nothing is drawn or allocated) and refuse, with :class:`WorkloadError` (exit code
2), work beyond the limits below unless the user passes ``--yes``:

- :data:`MAX_REPLICATION_WEEKS` simulated replication-weeks (spin-up included);
- :data:`MAX_TIMESERIES_BYTES` for the weekly time series one run writes (streamed to
  disk, not held in memory; ``--no-timeseries`` writes none);
- :data:`MAX_SWEEP_POINTS` sample points in a sweep design, which is drawn and whose every
  point is validated before the first run.

The time in the message uses :data:`SECONDS_PER_REPLICATION_WEEK`, a cost measured on
the development machine for the baseline on one core; it is approximate (other configs,
larger threats and other machines differ by a small factor).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenarios.config import ScenarioConfig
    from scenarios.experiment.sweep import SweepSpec

# Baseline on one core with the compiled week, about 8.3 ms per replication of 364 weeks
# (benchmarks/run_bench.py, idle core): 2.3e-5 s per simulated week of a replication.
SECONDS_PER_REPLICATION_WEEK = 2.3e-5
# Building and validating one sample point's config before a sweep starts (measured on
# the shipped sweeps: 0.4-1 ms).
SECONDS_PER_SWEEP_POINT = 1e-3
# Limits beyond which a command asks for --yes.
MAX_REPLICATION_WEEKS = 100_000_000  # about 40 minutes on one core
MAX_TIMESERIES_BYTES = 64 * 2**30  # 64 GiB of float64 weekly outcomes, ~5 GiB on disk
# timeseries.parquet (zstd) takes about a twelfth of the raw float64 size (measured: 2,000
# replications of the baseline, 579 MiB raw, 45.7 MB on disk).
COMPRESSION = 12
MAX_SWEEP_POINTS = 1_000_000
# The time-series columns that are not outcomes: replication, step, date.
_INDEX_COLUMNS = 3


class WorkloadError(ValueError):
    """Work beyond the documented limits, refused before it starts (exit code 2)."""


@dataclass(frozen=True)
class Workload:
    """The size of what a command will compute."""

    what: str  # e.g. "run baseline", "experiment crackdown", "sweep sharing_trust_sobol"
    runs: int  # replications (a sweep: points x replications)
    weeks: int  # simulated weeks of one run (spin-up + recorded steps), the largest
    replication_weeks: int
    timeseries_bytes: int = 0  # raw (float64) size of the largest run's weekly series
    points: int = 0  # sweep sample points

    def seconds(self) -> float:
        """Approximate time on one core."""
        return (
            self.replication_weeks * SECONDS_PER_REPLICATION_WEEK
            + self.points * SECONDS_PER_SWEEP_POINT
        )

    def problems(self) -> list[str]:
        """What exceeds a limit, one phrase each; empty if nothing does."""
        found = []
        if self.replication_weeks > MAX_REPLICATION_WEEKS:
            found.append(
                f"{self.runs:,} runs x {self.weeks:,} weeks = "
                f"{self.replication_weeks:,} replication-weeks, "
                f"{duration(self.seconds())} on one core at roughly "
                f"{SECONDS_PER_REPLICATION_WEEK:.1e} s per replication-week (the limit is "
                f"{MAX_REPLICATION_WEEKS:,}, {duration(_limit_seconds())})"
            )
        if self.timeseries_bytes > MAX_TIMESERIES_BYTES:
            found.append(
                f"its weekly time series would be {size(self.timeseries_bytes)} "
                f"(about {size(self.timeseries_bytes / COMPRESSION)} on disk; the limit is "
                f"{size(MAX_TIMESERIES_BYTES)}; --no-timeseries writes none)"
            )
        if self.points > MAX_SWEEP_POINTS:
            found.append(
                f"its design has {self.points:,} sample points, each drawn and validated "
                f"before the first run (the limit is {MAX_SWEEP_POINTS:,})"
            )
        return found

    def check(self, yes: bool = False) -> None:
        """Raise WorkloadError if a limit is exceeded, unless ``yes``."""
        problems = self.problems()
        if problems and not yes:
            raise WorkloadError(
                f"{self.what}: too big to start: {'; '.join(problems)}. Ask for less "
                "(replications, steps, samples or parameters), or pass --yes to start it "
                "anyway"
            )


def _limit_seconds() -> float:
    return MAX_REPLICATION_WEEKS * SECONDS_PER_REPLICATION_WEEK


def duration(seconds: float) -> str:
    """``about 5 hours``: a rough duration in the largest sensible unit."""
    for unit, length in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600)):
        if seconds >= 2 * length:
            return f"about {seconds / length:,.0f} {unit}"
    if seconds >= 120:
        return f"about {seconds / 60:,.0f} minutes"
    return f"about {seconds:,.0f} seconds"


def size(n_bytes: float) -> str:
    """``12 GiB``: a byte count in binary units."""
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= factor:
            return f"{n_bytes / factor:,.0f} {unit}"
    return f"{n_bytes / 2**10:,.0f} KiB"


def simulated_weeks(run: Mapping[str, Any] | Any) -> int:
    """Spin-up plus recorded weeks of one replication (a config's ``run`` section)."""
    if isinstance(run, Mapping):
        return int(run.get("burn_in", 26)) + int(run.get("steps", 260))
    return int(run.burn_in) + int(run.steps)


def timeseries_bytes(config: ScenarioConfig) -> int:
    """Raw bytes of the weekly time series of a run of ``config`` (float64 columns).

    Zero if the run writes none (``run.timeseries: false``, ``--no-timeseries``).
    """
    from scenarios.model.outcomes import Recorder

    if not config.run.timeseries:
        return 0

    countries = tuple(dict.fromkeys(r.country for r in config.regions.values()))
    width = len(Recorder(1, countries, tuple(config.actors)).columns()) + _INDEX_COLUMNS
    return config.run.replications * config.run.steps * width * 8


def run_workload(config: ScenarioConfig, what: str | None = None) -> Workload:
    """The work of one run of ``config``."""
    weeks = simulated_weeks(config.run)
    n = config.run.replications
    return Workload(
        what=what or f"run {config.name}",
        runs=n,
        weeks=weeks,
        replication_weeks=n * weeks,
        timeseries_bytes=timeseries_bytes(config),
    )


def experiment_workload(name: str, configs: Mapping[str, ScenarioConfig]) -> Workload:
    """The work of running every scenario of an experiment (as if none were reused)."""
    parts = [run_workload(cfg) for cfg in configs.values()]
    return _combined(f"experiment {name}", parts)


def _combined(what: str, parts: Iterable[Workload]) -> Workload:
    parts = list(parts)
    return Workload(
        what=what,
        runs=sum(p.runs for p in parts),
        weeks=max(p.weeks for p in parts),
        replication_weeks=sum(p.replication_weeks for p in parts),
        timeseries_bytes=max(p.timeseries_bytes for p in parts),
    )


def sweep_workload(spec: SweepSpec, raw_base: Mapping[str, Any]) -> Workload:
    """The work of a sweep, from its size arithmetic alone (the design is not drawn).

    Weeks are the base config's; a sweep that varies ``run.steps`` or ``run.burn_in`` is
    counted at its parameters' upper bounds.
    """
    run = dict(raw_base.get("run") or {})
    for key in ("steps", "burn_in"):
        param = spec.parameters.get(f"run.{key}")
        if param is not None and param.distribution in ("unif", "triang"):
            run[key] = int(max(param.bounds))
    weeks = simulated_weeks(run)
    points = spec.n_points()
    runs = points * spec.replications * spec.arms()  # a contrast sweep runs both arms
    return Workload(
        what=f"sweep {spec.name}",
        runs=runs,
        weeks=weeks,
        replication_weeks=runs * weeks,
        points=points,
    )
