"""The `scenarios` command. Thin: parses arguments, calls the library, prints.

Output width: a terminal's own width; ``COLUMNS`` if set (also for pipes); otherwise, when
the output is not a terminal (piped to a file or a program), ``PIPED_WIDTH`` (120) columns,
which the run table never needs to wrap. Tables fit 80 columns without cutting a label.

Exit codes: 0 success; 2 bad input (config, arguments, missing file, unusable output,
parameters that drive the model past its size limits, work beyond the limits of
``scenarios.experiment.workload`` without ``--yes``) with a one-paragraph message and no
traceback; 1 internal error; 130 interrupted.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
import time
import traceback
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from scenarios.experiment.compare import Comparison

from scenarios import __version__
from scenarios.config import ConfigError, ModelLimitError, json_schema, load_config, read_yaml
from scenarios.experiment.errors import (
    CompareError,
    OutputError,
    SweepFailedError,
    disk_full_code,
    disk_full_error,
)
from scenarios.experiment.processes import sigterm_as_interrupt
from scenarios.experiment.store import (
    check_kind,
    check_writable,
    default_run_dir,
    now,
    output_lock,
)
from scenarios.experiment.workload import (
    MAX_REPLICATION_WEEKS,
    MAX_SWEEP_POINTS,
    MAX_TIMESERIES_BYTES,
    SECONDS_PER_REPLICATION_WEEK,
    WorkloadError,
    duration,
    experiment_workload,
    run_workload,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Policy scenario simulator: intelligence sharing and trust against ISIS-K "
    "(a Mesa agent-based model). Compare stylised scenarios; not a forecast.",
)
PIPED_WIDTH = 120


def _width(stream: Any) -> int | None:
    """Width for output to ``stream``: COLUMNS, else the terminal's (None), else PIPED_WIDTH."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return None  # rich follows the terminal, resized or not
    except (AttributeError, ValueError):
        pass
    return PIPED_WIDTH


def _consoles() -> tuple[Console, Console]:
    """Consoles for stdout and stderr, their widths chosen as ``_width`` says."""
    return Console(width=_width(sys.stdout)), Console(stderr=True, width=_width(sys.stderr))


out, err = _consoles()


def _version(value: bool) -> None:
    if value:
        out.print(f"scenarios {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    # No docstring: the help text is the app's.
    del version


_VERBS = {
    "scenario": "run",
    "experiment": "experiment",
    "sweep": "sweep",
    "calibration": "calibrate",
    "optimisation": "optimise",
}
_KIND_NAMES = {
    "scenario": "a scenario config",
    "experiment": "an experiment file",
    "sweep": "a sweep file",
    "calibration": "a calibration file",
    "optimisation": "an optimisation file",
}


def _file_kind(path: Path) -> str:
    """What a YAML file is, from its top-level keys.

    "experiment", "sweep", "calibration", "scenario", or "unknown" (unreadable, or keys of
    no one kind). An experiment file names ``scenarios``; a sweep file a ``base`` config or
    a ``method`` and its ``parameters``; a calibration file its ``targets`` and a
    ``scenario`` or ``parameters``; a scenario config only has sections of
    ``ScenarioConfig`` (and ``extends``).
    """
    from scenarios.config import ScenarioConfig

    try:
        raw = read_yaml(path)
    except ConfigError:
        return "unknown"
    if "scenarios" in raw:
        return "experiment"
    if "parameters" in raw and ("base" in raw or "method" in raw):
        return "sweep"
    if "targets" in raw and ("scenario" in raw or "parameters" in raw):
        return "calibration"
    if "levers" in raw and "objectives" in raw:
        return "optimisation"
    if set(raw) <= {*ScenarioConfig.model_fields, "extends"}:
        return "scenario"
    return "unknown"


def _expect_kind(path: Path, wanted: str) -> None:
    """Refuse a file recognised as another kind than ``wanted``, naming its command."""
    kind = _file_kind(path)
    if kind not in (wanted, "unknown"):
        raise ConfigError(
            f"{path} is {_KIND_NAMES[kind]}, not {_KIND_NAMES[wanted]}; run it with "
            f"`scenarios {_VERBS[kind]} {path}`"
        )


def _bar(unit: str = "", *, transient: bool = True, indent: str = "") -> Progress:
    """A progress bar on stderr: description, bar, done/total, ``unit``, time left.

    ``unit`` may name a task field, e.g. ``"runs {task.fields[rate]}"``.
    """
    unit_column = [TextColumn(unit)] if unit else []
    return Progress(
        TextColumn(indent + "{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *unit_column,
        TimeRemainingColumn(),
        console=err,
        transient=transient,
    )


class _DelayedProgress:
    """A progress bar that appears only once work has taken more than ``delay`` seconds."""

    def __init__(self, total: int, label: str, delay: float = 1.0) -> None:
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.delay = delay
        self.label = label
        self.bar: Progress | None = None
        self.task = None

    def __call__(self, k: int) -> None:
        self.done += k
        if self.bar is None and time.monotonic() - self.start > self.delay:
            self.bar = _bar("replications")
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total, completed=self.done)
        elif self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


_LIMIT_TIME = duration(MAX_REPLICATION_WEEKS * SECONDS_PER_REPLICATION_WEEK)
YES_HELP = (
    "Start even if the work is beyond the limits checked before any compute: "
    f"{MAX_REPLICATION_WEEKS:,} replication-weeks ({_LIMIT_TIME} on one core), "
    f"{MAX_TIMESERIES_BYTES // 2**30} GiB of weekly time series in one run (raw), "
    f"{MAX_SWEEP_POINTS:,} sweep sample points."
)
Yes = Annotated[bool, typer.Option("--yes", help=YES_HELP)]


class FigureSet(StrEnum):
    """The sweep analysis's figures (sweep_report.FIGURES; not imported here: start-up)."""

    OVERVIEW = "overview"
    ALL = "all"


Figures = Annotated[
    FigureSet,
    typer.Option(
        "--figures",
        help="Figures of the analysis: 'overview' (a heatmap of every outcome's sensitivity "
        "to every parameter, and each outcome against its most influential parameter) or "
        "'all' (also every outcome's own index and partial-dependence figures; slower).",
    ),
]
EnsembleDir = Annotated[
    Path | None,
    typer.Option(
        "--ensemble",
        help="Posterior directory written by `scenarios calibrate`: replication i (of every "
        "coalition or candidate, for links and optimise) runs with parameter draw i // K "
        "(particles resampled by weight, seeded by the root seed), so runs stay paired and "
        "the intervals carry parameter uncertainty.",
    ),
]
PerDraw = Annotated[
    int | None,
    typer.Option(
        "--per-draw",
        min=1,
        help="With --ensemble: replications per parameter draw, K (default 2; at least 2 "
        "to separate parameter from chance variance).",
    ),
]


def _replications_per_draw(per_draw: int | None, ensemble_dir: Path | None) -> int:
    """K for a run over an ensemble (default 2); --per-draw without --ensemble is refused."""
    from scenarios.experiment.ensemble import DEFAULT_PER_DRAW

    if per_draw is not None and ensemble_dir is None:
        raise typer.BadParameter("--per-draw needs --ensemble", param_hint="--per-draw")
    return per_draw or DEFAULT_PER_DRAW


def _relative_precision(value: float) -> float:
    """A relative precision must be a finite number in (0, 10]."""
    if not 0.0 < value <= 10.0:  # also refuses nan
        raise typer.BadParameter(f"{value} is not in (0, 10]")
    return value


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Scenario YAML, e.g. configs/baseline.yaml.")],
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", help="Override run.replications.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override run.seed (root seed, >= 0).")] = None,
    steps: Annotated[int | None, typer.Option(help="Override run.steps (weeks).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override one config value: KEY=VALUE with a dotted key, e.g. "
            "--set sharing.policy.us.russia=0.8 (repeatable).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run directory to create (default results/<name>-<time>)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes for replications (results do not depend on it).")
    ] = 1,
    no_timeseries: Annotated[
        bool,
        typer.Option(
            "--no-timeseries",
            help="Keep only summary.parquet, not timeseries.parquet (sets run.timeseries=false): "
            "for large runs, saves the disk space (about 23 KB per replication of 260 weeks) "
            "and time of the weekly data. Costs: no weekly figures (attacks by country, "
            "strength and trust over time) in the run's report, and `compare` / experiments "
            "with this run draw no weekly figures either. The summary outcomes and the table "
            "are unchanged.",
        ),
    ] = False,
    ensemble_dir: EnsembleDir = None,
    per_draw: PerDraw = None,
    yes: Yes = False,
) -> None:
    """Run one scenario: replications -> run directory, and print the key outcomes.

    The weekly series are written to timeseries.parquet as replications finish, so memory
    does not grow with the number of replications. Work beyond the limits (see --yes) is
    refused before it starts. With --ensemble the run is over a calibrated posterior.
    """
    overrides = list(set_ or [])
    for key, value in (
        ("run.replications", replications),
        ("run.seed", seed),
        ("run.steps", steps),
    ):
        if value is not None:
            overrides.append(f"{key}={value}")
    if no_timeseries:
        overrides.append("run.timeseries=false")
    _expect_kind(config, "scenario")
    cfg = load_config(config, overrides)
    run_workload(cfg).check(yes)
    k = _replications_per_draw(per_draw, ensemble_dir)
    ensemble = None
    if ensemble_dir is not None:
        from scenarios.experiment.ensemble import check_ensemble, load_posterior, plan_ensemble

        posterior = load_posterior(ensemble_dir)
        ensemble = plan_ensemble(posterior, cfg.run.seed, cfg.run.replications, k)
        check_ensemble(ensemble, cfg, str(config))
    run_dir = out_dir if out_dir is not None else default_run_dir(Path("results"), cfg.name)
    if run_dir.exists():
        raise OutputError(f"--out {run_dir}: already exists; choose a new directory")
    check_writable(run_dir.parent)
    with output_lock(run_dir):  # before any work: a second process into --out is refused
        # Heavy imports (model, plotting) only once the input is known to be good.
        from scenarios.experiment.run import execute_run

        progress = _DelayedProgress(cfg.run.replications, f"{cfg.name}")
        started = time.monotonic()
        try:
            result, rows = execute_run(
                cfg,
                run_dir,
                workers=workers,
                progress=progress,
                source=str(config),
                ensemble=ensemble,
            )
        except KeyboardInterrupt:
            progress.close()
            err.print("interrupted: no run directory was kept", highlight=False)
            raise typer.Exit(130) from None
        finally:
            progress.close()
    elapsed = time.monotonic() - started
    if ensemble is None:
        _print_run_table(cfg, rows)
    else:
        _print_ensemble_table(cfg, rows, result.summary, ensemble)
    out.print(
        f"Finished in {elapsed:.1f} s. Run directory: [bold]{run_dir}[/]",
        highlight=False,
        soft_wrap=True,  # never fold the path: scripts read it from the last line
    )


def _print_run_table(cfg: Any, rows: list[Any]) -> None:
    """The key outcomes (labels wrapped at spaces), how intervals are computed, and notes."""
    from scenarios.report.tables import INTERVALS_NOTE, to_rich, wide_intervals

    title = f"{cfg.name}: {cfg.run.replications} replications x {cfg.run.steps} weeks"
    out.print(to_rich(rows, title))
    out.print(_hanging(INTERVALS_NOTE, out.width, "", ""), highlight=False, soft_wrap=True)
    _print_bullets("precision", wide_intervals(rows, cfg.run.replications))


def _print_ensemble_table(cfg: Any, rows: list[Any], summary: Any, ensemble: Any) -> None:
    """The key outcomes of a run over a posterior ensemble, with the variance shares."""
    from scenarios.report.tables import (
        INTERVALS_NOTE,
        SHARES_NOTE,
        to_rich,
        variance_shares,
        wide_intervals,
    )

    shares = variance_shares(summary, rows)
    title = (
        f"{cfg.name}: {cfg.run.replications} replications x {cfg.run.steps} weeks, over "
        f"{ensemble.draws} parameter draws of calibration {ensemble.posterior.name}"
    )
    out.print(to_rich(rows, title, shares))
    note = f"{INTERVALS_NOTE} {SHARES_NOTE.replace('*', '')}"
    out.print(_hanging(note, out.width, "", ""), highlight=False, soft_wrap=True)
    _print_bullets("precision", wide_intervals(rows, cfg.run.replications))


def _print_bullets(heading: str, items: list[str]) -> None:
    """``heading:`` then one bullet per item on stderr, wrapped at spaces under the bullet.

    Lines break only at spaces (never inside a number or a hyphenated word).
    """
    if not items:
        return
    err.print(f"[yellow]{heading}:[/]", highlight=False)
    for item in items:
        err.print(_hanging(item, err.width, "  - ", "    "), markup=False, highlight=False)


def _hanging(text: str, width: int, first: str, rest: str) -> str:
    """``text`` filled to ``width`` at spaces only, the first line after ``first``."""
    import textwrap

    return textwrap.fill(
        text,
        width=max(width, 40),
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _print_comparison(cmp: Comparison) -> None:
    """The decision summary on the terminal: per scenario, its sentence and its table."""
    from rich import box

    from scenarios.report.compare_report import (
        PAIRING_CAPTION,
        ensemble_summary,
        methods_line,
        pairing_rows,
    )
    from scenarios.report.decision import (
        MARKS,
        bottom_line,
        change_text,
        decision_outcomes,
        reading_note,
    )

    outcomes = decision_outcomes(cmp)
    for scenario in cmp.others():
        effects = [e for e in cmp.effects if e.scenario == scenario and e.outcome in outcomes]
        effects.sort(key=lambda e: outcomes.index(e.outcome))
        table = Table(title=f"{scenario} against {cmp.baseline.label}", box=box.SIMPLE_HEAD)
        table.add_column("outcome", ratio=1)
        table.add_column("change", justify="right", no_wrap=True)
        table.add_column("95% interval", no_wrap=True)
        table.add_column("verdict", no_wrap=True)
        for e in effects:
            change = change_text(e)
            table.add_row(cmp.label(e.outcome), change.value, change.interval, MARKS[e.verdict])
        out.print(table)
        out.print(bottom_line(cmp, scenario), highlight=False)
        out.print()
    out.print(f"{reading_note(cmp)} Differences: {methods_line(cmp)}.", highlight=False)
    for line in ensemble_summary(cmp):
        out.print(line, highlight=False)
    out.print("Every outcome compared: report.html and comparison.csv.", highlight=False)
    title, header, rows = pairing_rows(cmp)
    if rows:
        pairing = Table(title=title, caption=PAIRING_CAPTION)
        pairing.add_column(header[0], no_wrap=True)
        for name in header[1:]:
            pairing.add_column(name, justify="right")
        for row in rows:
            pairing.add_row(*row)
        out.print(pairing)
    if cmp.warnings:
        shown = 6
        err.print(
            f"[yellow]precision:[/] {len(cmp.warnings)} differences cannot be told apart at "
            "this number of replications; replications that would tell them:",
            highlight=False,
        )
        for warning in cmp.warnings[:shown]:
            err.print(f"  - {warning.message()}", highlight=False)
        if len(cmp.warnings) > shown:
            err.print(f"  - ... {len(cmp.warnings) - shown} more in report.html", highlight=False)
    note = cmp.timeseries_note()
    if note:
        err.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command("compare")
def compare_cmd(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories written by `run`.")],
    baseline: Annotated[
        Path | None, typer.Option(help="Run directory to compare against (default: the first).")
    ] = None,
    outcomes: Annotated[
        list[str] | None,
        typer.Option("--outcomes", help="summary.parquet columns to compare (repeatable)."),
    ] = None,
    precision: Annotated[
        float,
        typer.Option(
            callback=_relative_precision,
            help="Wanted CI half-width of a mean, relative to it (0 < precision <= 10).",
        ),
    ] = 0.1,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default results/compare-<time>).")
    ] = None,
) -> None:
    """Compare run directories: estimates, differences against a baseline, report."""
    from scenarios.experiment.compare import compare, load_run
    from scenarios.report.compare_report import write_comparison

    target = out_dir or default_run_dir(Path("results"), "compare")
    check_kind(target, "comparison")  # never over a run's, sweep's or experiment's files
    paths = list(run_dirs)
    if baseline is not None and baseline not in paths:
        paths.insert(0, baseline)
    runs = [load_run(p) for p in paths]
    base = runs[paths.index(baseline)] if baseline is not None else runs[0]
    cmp = compare(runs, base, outcomes or None, precision)
    check_writable(target.parent)
    manifest = {
        "kind": "comparison",
        "baseline": str(base.path),
        "runs": [str(run.path) for run in runs],
        "outcomes": cmp.outcomes,
        "created": now(),
    }
    with output_lock(target):
        check_kind(target, "comparison")
        write_comparison(cmp, target, f"Comparison against {base.label}", manifest=manifest)
    _print_comparison(cmp)
    out.print(f"Report: [bold]{target / 'report.html'}[/]", highlight=False, soft_wrap=True)


@app.command()
def experiment(
    spec_path: Annotated[
        Path, typer.Argument(help="Experiment YAML, e.g. experiments/crackdown.yaml.")
    ],
    workers: Annotated[int, typer.Option(min=1, help="Processes for replications.")] = 1,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default results/experiments/<name>)."),
    ] = None,
    yes: Yes = False,
) -> None:
    """Run the scenarios an experiment names (common random numbers), then compare them.

    Finished runs with the same resolved config, seeds, package version and model code are
    reused if their files still match the hashes in their manifests; others are re-run.
    Work beyond the limits (see --yes) is refused before it starts.

    An experiment file with `ensemble: DIR` (a posterior of `scenarios calibrate`,
    relative to the file) and optionally `replications_per_draw: K` (default 2) runs every
    scenario over that posterior: replication i of each uses parameter draw i // K, and
    the report splits each difference's spread into parameters and chance.
    """
    from scenarios.experiment.experiment import load_experiment, load_experiment_ensemble

    _expect_kind(spec_path, "experiment")
    spec, configs = load_experiment(spec_path)
    experiment_workload(spec.name, configs).check(yes)
    ensemble = load_experiment_ensemble(spec, spec_path, configs)
    target = out_dir or Path("results") / "experiments" / spec.name
    check_kind(target, "experiment")
    check_writable(target.parent)
    with output_lock(target):
        _experiment(spec, configs, target, workers, ensemble)


def _experiment(
    spec: Any, configs: dict[str, Any], target: Path, workers: int, ensemble: Any = None
) -> None:
    from scenarios.experiment.compare import compare, load_run
    from scenarios.experiment.experiment import run_experiment
    from scenarios.report.compare_report import write_comparison

    check_writable(target)
    started = time.monotonic()
    bars: list[_DelayedProgress] = []

    def announce(label: str, reused: bool, why: str | None) -> _DelayedProgress | None:
        for bar in bars:
            bar.close()
        if reused:
            err.print(f"{label}: reusing the finished run (its files verified)", highlight=False)
            return None
        if why:
            err.print(f"{label}: the earlier run is not reused: {why}", markup=False)
        err.print(f"{label}: running {spec.replications} replications", highlight=False)
        bars.append(_DelayedProgress(spec.replications, label))
        return bars[-1]

    try:
        paths = run_experiment(
            spec, configs, target, workers=workers, on_scenario=announce, ensemble=ensemble
        )
    except KeyboardInterrupt:
        for bar in bars:
            bar.close()
        err.print(
            "interrupted: scenarios already finished are kept and will be reused next time",
            highlight=False,
        )
        raise typer.Exit(130) from None
    finally:
        for bar in bars:
            bar.close()
    runs = [load_run(paths[label]) for label in spec.scenarios]
    base = runs[list(spec.scenarios).index(spec.baseline)]
    cmp = compare(runs, base, spec.outcomes, spec.precision, spec.probability_precision)
    write_comparison(cmp, target, f"Experiment `{spec.name}`", spec.description)
    _print_comparison(cmp)
    out.print(
        f"Finished in {time.monotonic() - started:.1f} s. Report: "
        f"[bold]{target / 'report.html'}[/]",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def sweep(
    spec_path: Annotated[Path, typer.Argument(help="Sweep YAML, e.g. configs/sweeps/*.yaml.")],
    workers: Annotated[
        int, typer.Option(min=1, help="Local worker processes (without --scheduler).")
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted sweep in --out.")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Sweep directory (default results/sweeps/<name>).")
    ] = None,
    figures: Figures = FigureSet.OVERVIEW,
    yes: Yes = False,
) -> None:
    """Run a sensitivity sweep (streamed to disk, resumable), then analyse it.

    Runs on local worker processes, or with --scheduler on an existing Dask cluster. A
    sweep file with a `contrast` runs every point twice with the same seeds (as sampled,
    and with the contrast's overrides) and analyses the paired effects `effect:<outcome>`.

    Work beyond the limits (see --yes) is refused before the design is drawn.
    """
    _expect_kind(spec_path, "sweep")
    if scheduler is None:
        from scenarios.experiment.workers import start_fork_server

        # First thing: the workers' model loads while this process loads its own and
        # reads and checks the sweep (a second or two).
        start_fork_server()
    from scenarios.experiment.sweep import load_sweep

    spec, raw_base = load_sweep(spec_path, yes=yes)
    target = out_dir or Path("results") / "sweeps" / spec.name
    check_writable(target.parent)
    with output_lock(target):
        _sweep(spec_path, spec, raw_base, target, workers, scheduler, resume, figures)


def _where(workers: int, scheduler: str | None) -> str:
    """Where the runs go, for the first line of sweep-like verbs."""
    return f"scheduler {scheduler}" if scheduler else f"{workers} local workers"


def _sweep(
    spec_path: Path,
    spec: Any,
    raw_base: dict[str, Any],
    target: Path,
    workers: int,
    scheduler: str | None,
    resume: bool,
    figures: FigureSet = FigureSet.OVERVIEW,
) -> None:
    from scenarios.experiment.executor import execute_sweep

    n_runs = spec.n_points() * spec.replications
    err.print(
        f"{spec.name}: {spec.method}, {spec.n_points()} points x {spec.replications} "
        f"replications = {n_runs} runs"
        + (f" (each in 2 arms: {spec.contrast.label})" if spec.contrast is not None else "")
        + " on "
        + _where(workers, scheduler),
        highlight=False,
    )
    bar = _bar("runs {task.fields[rate]}", transient=False)
    started = time.monotonic()
    first: list[int] = []

    def progress(done: int, total: int) -> None:
        if not first:
            first.append(done)
            bar.start()
            bar.add_task(spec.name, total=total, completed=done, rate="")
            return
        if len(first) == 1:
            # The first chunk is in (the workers are up): the driver only waits for the
            # others, so it loads the analysis meanwhile.
            first.append(done)
            threading.Thread(
                target=_import_quietly, args=("scenarios.report.sweep_report",), daemon=True
            ).start()
        elapsed = max(time.monotonic() - started, 1e-9)
        rate = f"{(done - first[0]) / elapsed:.1f}/s"
        bar.update(bar.task_ids[0], completed=done, rate=rate)

    def finish(pool: Any) -> None:
        """Analyse before the local workers shut down: they draw the figures."""
        from scenarios.report.sweep_report import analyse_sweep  # loaded during the runs

        bar.stop()
        analyse_sweep(target, pool, figures.value)

    try:
        execute_sweep(
            spec,
            raw_base,
            target,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            progress=progress,
            report=lambda message: err.print(message, highlight=False, markup=False),
            finish=finish,
        )
    except KeyboardInterrupt:
        bar.stop()
        err.print(
            f"interrupted: finished chunks are kept in {target}; continue with "
            f"`scenarios sweep {spec_path} --resume --out {target}`",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    finally:
        bar.stop()
    _print_indices(target)
    out.print(
        f"Finished in {time.monotonic() - started:.1f} s. Report: "
        f"[bold]{target / 'report.html'}[/]",
        highlight=False,
        soft_wrap=True,
    )


def _import_quietly(module: str) -> None:
    """Import ``module`` (in a thread, ahead of need); an error shows when it is used."""
    with contextlib.suppress(Exception):
        importlib.import_module(module)


def _print_indices(target: Path) -> None:
    import pandas as pd

    from scenarios.experiment.sensitivity import importance

    ranked = importance(pd.read_csv(target / "indices.csv", keep_default_na=False, na_values=[""]))
    table = Table(title="Most influential parameters (top 3 per outcome)")
    for name in ("outcome", "parameter", "index", "value", "95% CI", "flag"):
        table.add_column(name, overflow="fold")
    for outcome, group in ranked.groupby("outcome", sort=False):
        for _, row in group.head(3).iterrows():
            table.add_row(
                str(outcome),
                row.parameter,
                row["index"],
                f"{row.value:.3f}",
                f"[{row.ci_low:.3f}, {row.ci_high:.3f}]",
                str(row.flag) if isinstance(row.flag, str) else "",
            )
    out.print(table)


@app.command()
def calibrate(
    spec_path: Annotated[
        Path, typer.Argument(help="Calibration YAML, e.g. configs/calibration/*.yaml.")
    ],
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes (1: in this process; more: an embedded Dask cluster)."
        ),
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted calibration in --out (after Ctrl-C or a kill, "
            "only the generation in progress is lost).",
        ),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default results/calibrations/<name>)."),
    ] = None,
) -> None:
    """Calibrate a scenario against the public record (ABC-SMC with pyABC).

    Writes posterior.parquet (weighted parameter sets, usable by `run --ensemble` and
    experiment files), history.csv (epsilon, acceptance rate and effective sample size by
    generation), the posterior and prior predictive runs, and report.html. The same file
    and seed give the same posterior whatever --workers.
    """
    from scenarios.calibrate.spec import load_calibration

    _expect_kind(spec_path, "calibration")
    spec, raw_base, _config = load_calibration(spec_path)
    target = out_dir or Path("results") / "calibrations" / spec.name
    check_writable(target.parent)
    with output_lock(target):
        _calibrate(spec_path, spec, raw_base, target, workers, scheduler, resume)


def _calibrate(
    spec_path: Path,
    spec: Any,
    raw_base: dict[str, Any],
    target: Path,
    workers: int,
    scheduler: str | None,
    resume: bool,
) -> None:
    from scenarios.calibrate.abc import run_calibration
    from scenarios.report.calibration_report import (
        calibration_summary_lines,
        write_calibration_report,
    )

    b = spec.budget
    err.print(
        f"{spec.name}: ABC-SMC, {len(spec.parameters)} parameters, {len(spec.targets)} "
        f"targets, {b.population} particles per generation, at most {b.max_generations} "
        f"generations and {b.max_simulations:,} runs, on " + _where(workers, scheduler),
        highlight=False,
    )
    started = time.monotonic()
    command = " ".join(["scenarios", *sys.argv[1:]])
    bar = _bar(indent="  ")

    def report(message: str) -> None:
        """A stage's line, and a fresh bar for its particles (or predictive runs)."""
        for task in list(bar.tasks):
            bar.remove_task(task.id)
        err.print(message, highlight=False, markup=False)
        if message.endswith("..."):
            what = "particles accepted" if message.startswith("generation") else "batches"
            bar.add_task(what, total=None)

    def progress(done: int, total: int) -> None:
        if bar.tasks:
            bar.update(bar.tasks[-1].id, completed=done, total=total)

    try:
        with bar:
            run_calibration(
                spec,
                raw_base,
                target,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                command=command,
                report=report,
                progress=progress,
            )
    except KeyboardInterrupt:
        err.print(
            f"interrupted: finished generations are kept in {target}; continue with "
            f"`scenarios calibrate {spec_path} --resume --out {target}`",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    report = write_calibration_report(target)
    for line in calibration_summary_lines(target):
        out.print(
            _hanging(line, out.width, "- ", "  "), highlight=False, markup=False, soft_wrap=True
        )
    out.print(
        f"Finished in {time.monotonic() - started:.1f} s. Report: [bold]{report}[/]",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def links(
    config_path: Annotated[
        Path, typer.Argument(help="Scenario config, e.g. configs/baseline.yaml.")
    ],
    links_text: Annotated[
        str | None,
        typer.Option(
            "--links",
            help="Links to value, comma-separated: GIVER>RECEIVER (e.g. us>russia,taliban>us), "
            "or A-B with --pairs. Default: the six among us, russia and taliban.",
        ),
    ] = None,
    pairs: Annotated[
        bool, typer.Option("--pairs", help="A link is both directions between two actors.")
    ] = False,
    level: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Sharing level of a link that is on (0-1]."),
    ] = 0.7,
    replications: Annotated[
        int, typer.Option("-n", "--replications", min=2, help="Replications per coalition.")
    ] = 50,
    steps: Annotated[
        int | None, typer.Option(min=1, help="Recorded weeks per run (default: the config's).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (embedded Dask).")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted run of the links in --out.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default results/links/<scenario>)."),
    ] = None,
    ensemble_dir: EnsembleDir = None,
    per_draw: PerDraw = None,
    yes: Yes = False,
) -> None:
    """Value each sharing link: Shapley values over every coalition of links.

    All 2^k coalitions run the same replication seeds (streamed and resumable, like a
    sweep). Writes links.csv (link, outcome, shapley, ci_low, ci_high, n, full_effect)
    and report.html: what each link buys in attacks and what it exposes. With --ensemble
    the coalitions run over a calibrated posterior (rows record each run's draw and
    particle; a resume must use the same posterior).
    """
    from scenarios.config import apply_overrides, load_raw, validate
    from scenarios.decision.links import default_outcomes, links_spec, parse_links
    from scenarios.experiment.experiment import outcome_columns
    from scenarios.experiment.workload import sweep_workload

    if level <= 0:
        raise ConfigError("--level: a link that is on shares at a level above 0")
    _expect_kind(config_path, "scenario")
    raw = load_raw(config_path)
    overrides: list[tuple[str, Any]] = [] if steps is None else [("run.steps", steps)]
    raw = apply_overrides(raw, overrides)
    config = validate(raw, str(config_path))
    chosen = parse_links(links_text, list(config.actors), pairs)
    outcomes = default_outcomes(list(config.actors), outcome_columns(config))
    spec = links_spec(
        config.name,
        str(config_path),
        chosen,
        level=level,
        replications=replications,
        seed=config.run.seed,
        outcomes=outcomes,
    )
    sweep_workload(spec, raw).check(yes)
    k = _replications_per_draw(per_draw, ensemble_dir)
    ensemble = None
    if ensemble_dir is not None:
        from scenarios.experiment.ensemble import points_ensemble

        link_paths = [p for link in chosen for p in link.paths]
        ensemble = points_ensemble(
            ensemble_dir, config, replications, k, link_paths, "link", str(config_path)
        )
    target = out_dir or Path("results") / "links" / config.name
    check_writable(target.parent)
    with output_lock(target):
        _links(spec, raw, config, target, workers, scheduler, resume, ensemble)


def _links(
    spec: Any,
    raw: dict[str, Any],
    config: Any,
    target: Path,
    workers: int,
    scheduler: str | None,
    resume: bool,
    ensemble: Any = None,
) -> None:
    from scenarios.decision.links import link_values
    from scenarios.experiment.executor import execute_sweep, read_results
    from scenarios.report.links_report import link_sentence, write_links_report

    n_runs = spec.n_points() * spec.replications
    err.print(
        f"{config.name}: {len(spec.links)} links, {spec.n_points()} coalitions x "
        f"{spec.replications} replications = {n_runs} runs on "
        + _where(workers, scheduler)
        + (
            f", over {ensemble.draws} draws of posterior {ensemble.posterior.name}"
            if ensemble is not None
            else ""
        ),
        highlight=False,
    )
    bar = _bar("runs")
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if not bar.tasks:
            bar.add_task("coalitions", total=total)
        bar.update(bar.tasks[0].id, completed=done)

    try:
        with bar:
            execute_sweep(
                spec,
                raw,
                target,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                progress=progress,
                report=lambda message: err.print(message, highlight=False, markup=False),
                ensemble=ensemble,
            )
    except KeyboardInterrupt:
        err.print(
            f"interrupted: finished chunks are kept in {target}; continue with the same "
            f"command and --resume --out {target}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    values = link_values(read_results(target), spec)
    sentence = ""
    if ensemble is not None:
        from scenarios.experiment.ensemble import ensemble_sentence

        sentence = ensemble_sentence(ensemble.posterior, ensemble.per_draw, "coalition")
    report = write_links_report(target, values, spec, config.name, config.run.steps, sentence)
    for link in spec.links:
        out.print(link_sentence(values, link).replace("`", ""), highlight=False, soft_wrap=True)
    out.print(
        f"Finished in {time.monotonic() - started:.1f} s. Table: {target / 'links.csv'}; "
        f"report: [bold]{report}[/]",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def optimise(
    spec_path: Annotated[
        Path, typer.Argument(help="Optimisation YAML, e.g. configs/optimise/*.yaml.")
    ],
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (embedded Dask).")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue an interrupted search in --out (same result)."),
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default results/optimise/<name>)."),
    ] = None,
    ensemble_dir: EnsembleDir = None,
    per_draw: PerDraw = None,
) -> None:
    """Search sharing policies: a Pareto front of objectives under constraints (NSGA-II).

    Every candidate runs the same replication seeds; the front then runs again on fresh
    seeds. Writes evaluations.csv (every candidate), pareto.csv and report.html. With
    --ensemble every candidate (and the front's re-evaluation, on fresh draws) runs over
    a calibrated posterior; a resume must use the same posterior.
    """
    from scenarios.decision.optimise import load_optimise, run_optimisation
    from scenarios.report.optimise_report import write_optimise_report

    _expect_kind(spec_path, "optimisation")
    spec, raw_base, config = load_optimise(spec_path)
    k = _replications_per_draw(per_draw, ensemble_dir)
    posterior = None
    if ensemble_dir is not None:
        from scenarios.experiment.ensemble import points_ensemble

        posterior = points_ensemble(
            ensemble_dir, config, spec.replications, k, list(spec.levers), "lever", str(spec_path)
        ).posterior
    target = out_dir or Path("results") / "optimise" / spec.name
    check_writable(target.parent)
    started = time.monotonic()
    err.print(
        f"{spec.name}: NSGA-II, {len(spec.levers)} levers, {spec.population} candidates x "
        f"{spec.generations} generations x {spec.replications} replications, on "
        + _where(workers, scheduler),
        highlight=False,
    )
    with output_lock(target):
        try:
            front = run_optimisation(
                spec,
                raw_base,
                target,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                report=lambda message: err.print(message, highlight=False, markup=False),
                posterior=posterior,
                per_draw=k if posterior is not None else 1,
            )
        except KeyboardInterrupt:
            err.print(
                f"interrupted: finished generations are kept in {target}; continue with "
                f"`scenarios optimise {spec_path} --resume --out {target}`",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
        import pandas as pd

        evaluations = pd.read_csv(target / "evaluations.csv")
        sentence = ""
        if posterior is not None:
            from scenarios.experiment.ensemble import ensemble_sentence

            sentence = ensemble_sentence(posterior, k, "candidate")
        report = write_optimise_report(target, spec, front, evaluations, sentence)
    out.print(
        f"{len(front)} policies on the front. Finished in {time.monotonic() - started:.1f} s. "
        f"Front: {target / 'pareto.csv'}; report: [bold]{report}[/]",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def discover(
    sweep_dir: Annotated[Path, typer.Argument(help="A finished sweep directory.")],
    where: Annotated[
        str,
        typer.Option(
            help="Condition on each point's outcome means, e.g. "
            '"attack_risk__russia < 0.2 and ci_exposure__us < 20"; on a contrast sweep also '
            'its paired effects, e.g. "effect:attack_risk__russia < 0".',
        ),
    ],
    density: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Density the chosen box must reach (0-1)."),
    ] = 0.8,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default SWEEP_DIR/discover)."),
    ] = None,
) -> None:
    """Find where in parameter space a condition holds (PRIM, EMA Workbench).

    Writes trajectory.csv (the peeling trajectory: coverage, density), box.csv (the chosen
    box's limits) and report.html, and says the box in words.
    """
    from scenarios.decision.discover import discover as find
    from scenarios.report.discover_report import write_discover_report

    target = out_dir or sweep_dir / "discover"
    box, sentence = find(sweep_dir, where, target, density)
    report = write_discover_report(target, box, sentence, sweep_dir, where)
    out.print(sentence.replace("`", ""), highlight=False, soft_wrap=True)
    out.print(f"Report: [bold]{report}[/]", highlight=False, soft_wrap=True)


@app.command()
def analyse(
    sweep_dir: Annotated[Path, typer.Argument(help="A finished sweep directory.")],
    figures: Figures = FigureSet.OVERVIEW,
) -> None:
    """(Re)compute sensitivity indices, plots and report of a finished sweep."""
    from scenarios.report.sweep_report import analyse_sweep

    analyse_sweep(sweep_dir, figures=figures.value)
    _print_indices(sweep_dir)
    out.print(f"Report: [bold]{sweep_dir / 'report.html'}[/]", highlight=False, soft_wrap=True)


@app.command()
def viz(
    config: Annotated[
        Path | None, typer.Argument(help="Scenario YAML to open with (default: baseline).")
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8765,
) -> None:
    """Serve the interactive dashboard (Mesa SolaraViz) on 127.0.0.1.

    Requests addressed to any other host than 127.0.0.1:PORT or localhost:PORT (the Host
    header) are refused.
    """
    import subprocess

    from scenarios.experiment.processes import die_with_parent

    # A closed network stays closed: no version check against PyPI, no telemetry.
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    if config is not None:
        _expect_kind(config, "scenario")
        load_config(config)  # refuse a bad config before starting a server
        env["SCENARIOS_VIZ_CONFIG"] = str(config.resolve())
    out.print(
        f"Dashboard on [bold]http://127.0.0.1:{port}[/] (Ctrl-C to stop)",
        highlight=False,
    )
    # Solara's server, refusing requests whose Host header is not 127.0.0.1:PORT or
    # localhost:PORT (DNS rebinding); see scenarios.viz.serve.
    command = [sys.executable, "-m", "scenarios.viz.serve", str(port)]
    try:
        # SIGTERM arrives as KeyboardInterrupt, and call() then kills the server; if this
        # process is killed outright, the kernel kills the server (Linux).
        code = subprocess.call(command, env=env, preexec_fn=die_with_parent)
    except KeyboardInterrupt:
        code = 0
    if code:
        raise typer.Exit(1)


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario configs, experiment files (experiments/*.yaml), sweep files "
            "(configs/sweeps/*.yaml) or calibration files (configs/calibration/*.yaml) to "
            "check; the kind is told from the top-level keys."
        ),
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Dotted overrides to check too (scenario configs only)."),
    ] = None,
) -> None:
    """Check files without running anything (exit 2 if any is bad).

    A scenario config is resolved and validated; an experiment file with every config it
    names; a sweep file with its base config, every parameter range and every sample
    point's config (its size is reported, not refused); a calibration file with its
    scenario, both ends of every prior, and every target's columns and window.
    """
    bad = 0
    for path in files:
        kind = _file_kind(path)
        kind = "scenario" if kind == "unknown" else kind  # its loader says what is wrong
        try:
            summary = _check_file(path, kind, set_ or [])
        except (ConfigError, ModelLimitError, WorkloadError) as exc:
            err.print(
                f"[bold red]invalid[/] {kind} {'config' if kind == 'scenario' else 'file'}: {exc}",
                highlight=False,
                soft_wrap=True,
            )
            bad += 1
            continue
        out.print(f"[green]ok[/] {path}: {summary}", highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(2)


def _check_file(path: Path, kind: str, overrides: list[str]) -> str:
    """Load and validate ``path`` as ``kind``; what it holds, in one line."""
    if kind == "experiment":
        from scenarios.experiment.experiment import load_experiment, load_experiment_ensemble

        if overrides:
            raise ConfigError("--set applies to scenario configs only", source=str(path))
        spec, configs = load_experiment(path)
        ensemble = load_experiment_ensemble(spec, path, configs)
        steps = f" x {spec.steps} weeks" if spec.steps is not None else ""
        over = f", over {ensemble.draws} posterior draws" if ensemble is not None else ""
        return (
            f"experiment file {spec.name}, {len(configs)} scenarios against "
            f"{spec.baseline}, {spec.replications} replications{steps} each{over}"
        )
    if kind == "calibration":
        from scenarios.calibrate.spec import load_calibration

        if overrides:
            raise ConfigError("--set applies to scenario configs only", source=str(path))
        cal, _, cfg = load_calibration(path)
        return (
            f"calibration file {cal.name}: {len(cal.parameters)} parameters of {cfg.name} "
            f"against {len(cal.targets)} targets, {cal.budget.population} particles per "
            "generation"
        )
    if kind == "sweep":
        from scenarios.experiment.sweep import load_sweep

        if overrides:
            raise ConfigError("--set applies to scenario configs only", source=str(path))
        spec, _ = load_sweep(path, yes=True)
        return (
            f"sweep file {spec.name}, {spec.method}, {len(spec.parameters)} parameters, "
            f"{spec.n_points()} points x {spec.replications} replications"
            + (
                f", each in both arms of contrast {spec.contrast.label!r}"
                if spec.contrast is not None
                else ""
            )
        )
    cfg = load_config(path, overrides)
    return (
        f"scenario config {cfg.name}, {len(cfg.regions)} regions, {len(cfg.actors)} actors, "
        f"{cfg.run.replications} x {cfg.run.steps} weeks"
    )


@app.command()
def outcomes(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Scenario config: list the concrete columns of its summary.parquet "
            "(its countries and actors) instead of the families.",
        ),
    ] = None,
) -> None:
    """List the outcomes: summary.parquet column, label, unit and meaning.

    Without --config, one line per family: <country> stands for a country id, <actor> and
    <other> for actor ids, <k> for a fatality threshold. These are the names `compare
    --outcomes` and experiment and sweep files take.
    """
    from scenarios.labels import describe

    if config is None:
        rows = _outcome_families()
    else:
        from scenarios.experiment.experiment import outcome_columns

        _expect_kind(config, "scenario")
        rows = [(column, *describe(column)) for column in outcome_columns(load_config(config))]
    _print_outcomes(rows)


# Entity ids that stand for any country or actor when the families are listed.
_STAND_INS = {"qcountryq": "<country>", "qactorq": "<actor>", "qotherq": "<other>", "qkq": "<k>"}


def _outcome_families() -> list[tuple[str, str, str, str]]:
    """(column pattern, label, unit, meaning) of every summary column family."""
    from scenarios.labels import describe
    from scenarios.model.outcomes import summary_columns

    columns = summary_columns(104, ("qcountryq",), ("qactorq", "qotherq"), "qcountryq")
    thresholds = [c.rpartition("__")[2] for c in columns if c.startswith("attacks_with_")]
    rows: dict[str, tuple[str, str, str, str]] = {}
    for column in columns:
        if column.startswith("attacks_with_fatalities_ge__"):
            column = "attacks_with_fatalities_ge__qkq"
        if column.split("__")[1:2] == ["qotherq"]:
            continue  # the family of <actor> (or of <actor>__<other>) again
        text = list(describe(column))
        for stand_in, placeholder in _STAND_INS.items():
            column = column.replace(stand_in, placeholder)
            for form in (stand_in, stand_in.title()):
                text = [t.replace(form, placeholder) for t in text]
        if column.endswith("<k>"):
            text[2] += f" <k>: {', '.join(thresholds)}."
        rows.setdefault(column, (column, *text))
    return list(rows.values())


def _print_outcomes(rows: list[tuple[str, str, str, str]]) -> None:
    """Column name, then label (unit): meaning; side by side if wide enough, else below."""
    from rich.text import Text

    longest = max(len(row[0]) for row in rows)
    if out.width >= longest + 50:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("column", no_wrap=True)
        table.add_column("label (unit): meaning")
        for column, name, unit, meaning in rows:
            text = Text(name, style="bold")
            text.append(f" ({unit}): {meaning}")
            table.add_row(column, text)
        out.print(table, highlight=False)
        return
    for column, name, unit, meaning in rows:
        out.print(column, style="bold", markup=False, highlight=False, soft_wrap=True)
        text = _hanging(f"{name} ({unit}): {meaning}", out.width, "    ", "    ")
        out.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario configs (units and ranges in descriptions)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def _reflow_help() -> None:
    """Give every command its docstring as help with paragraphs as lines, not source lines.

    Typer keeps the single line breaks of a docstring's later paragraphs, so at any width
    but the source's they would break mid-sentence; joined, rich wraps them to the width.
    """
    import inspect

    for info in app.registered_commands:
        if info.help is None and info.callback is not None:
            doc = inspect.getdoc(info.callback) or ""
            info.help = "\n\n".join(" ".join(part.split()) for part in doc.split("\n\n"))


_reflow_help()


def main() -> None:
    """Entry point: map errors to exit codes and one-paragraph messages."""
    global out, err  # widths from this process's streams and COLUMNS (see _width)
    out, err = _consoles()
    sigterm_as_interrupt()
    try:
        # With standalone_mode=False, Typer returns (not raises) the code of a
        # `typer.Exit` raised by a command, and turns Ctrl-C into `Exit(130)`.
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except (
        ConfigError,
        ModelLimitError,
        OutputError,
        CompareError,
        WorkloadError,
        SweepFailedError,
    ) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except (KeyboardInterrupt, typer.Abort):
        err.print("interrupted", highlight=False)
        raise SystemExit(130) from None
    except OSError as exc:
        if not disk_full_code(exc):
            _internal_error(exc)
        # written outside the store's helpers (a figure, say): its run was removed all the same
        err.print(f"[bold red]error:[/] {disk_full_error(exc)}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # Click usage errors: exit 2
            exc.show()
            raise SystemExit(exc.exit_code) from None
        _internal_error(exc)
    if isinstance(code, int) and code != 0:
        raise SystemExit(code)


def _internal_error(exc: BaseException) -> NoReturn:
    """Report an unexpected error in one line (a traceback with SCENARIOS_DEBUG): exit 1."""
    if os.environ.get("SCENARIOS_DEBUG"):
        traceback.print_exception(exc)
    err.print(
        f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
        "(set SCENARIOS_DEBUG=1 for a traceback)",
        highlight=False,
        soft_wrap=True,
    )
    raise SystemExit(1) from None


if __name__ == "__main__":
    main()
