"""The `scenarios` command. Thin: parses arguments, calls the library, prints.

Exit codes: 0 success; 2 bad input (config, arguments, missing file, unusable output)
with a one-paragraph message and no traceback; 1 internal error; 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from scenarios.config import ConfigError, json_schema, load_config
from scenarios.experiment.store import OutputError, check_writable, default_run_dir

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Policy scenario simulator: intelligence sharing and trust against ISIS-K "
    "(a Mesa agent-based model). Compare stylised scenarios; not a forecast.",
)
out = Console()
err = Console(stderr=True)


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
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("replications"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total, completed=self.done)
        elif self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


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
) -> None:
    """Run one scenario: replications -> run directory, and print the key outcomes."""
    overrides = list(set_ or [])
    for key, value in (
        ("run.replications", replications),
        ("run.seed", seed),
        ("run.steps", steps),
    ):
        if value is not None:
            overrides.append(f"{key}={value}")
    cfg = load_config(config, overrides)
    run_dir = out_dir if out_dir is not None else default_run_dir(Path("results"), cfg.name)
    if run_dir.exists():
        raise OutputError(f"--out {run_dir}: already exists; choose a new directory")
    check_writable(run_dir.parent)
    # Heavy imports (model, plotting) only once the input is known to be good.
    from scenarios.experiment.run import execute_run
    from scenarios.report.tables import to_markdown

    progress = _DelayedProgress(cfg.run.replications, f"{cfg.name}")
    started = time.monotonic()
    try:
        _, rows = execute_run(cfg, run_dir, workers=workers, progress=progress, source=str(config))
    finally:
        progress.close()
    elapsed = time.monotonic() - started
    table = Table(title=f"{cfg.name}: {cfg.run.replications} replications x {cfg.run.steps} weeks")
    for name, justify in (
        ("outcome", "left"),
        ("", "left"),
        ("value", "right"),
        ("95% interval", "left"),
        ("method", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    previous = None
    for row in rows:
        value, interval, method = row.formatted()
        table.add_row(
            row.group if row.group != previous else "", row.label, value, interval, method
        )
        previous = row.group
    out.print(table)
    if os.environ.get("SCENARIOS_TABLE_MARKDOWN"):
        out.print(to_markdown(rows))
    out.print(
        f"Finished in {elapsed:.1f} s. Run directory: [bold]{run_dir}[/]",
        highlight=False,
        soft_wrap=True,  # never fold the path: scripts read it from the last line
    )


@app.command()
def validate(
    configs: Annotated[list[Path], typer.Argument(help="Scenario YAML files to check.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Dotted overrides to check too.")
    ] = None,
) -> None:
    """Check scenario configs without running them (exit 2 on the first bad one)."""
    bad = 0
    for path in configs:
        try:
            cfg = load_config(path, set_ or [])
        except ConfigError as exc:
            err.print(f"[bold red]invalid:[/] {exc}", highlight=False, soft_wrap=True)
            bad += 1
            continue
        out.print(
            f"[green]ok[/] {path}: {cfg.name}, {len(cfg.regions)} regions, "
            f"{len(cfg.actors)} actors, {cfg.run.replications} x {cfg.run.steps} weeks",
            highlight=False,
        )
    if bad:
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario configs (units and ranges in descriptions)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def main() -> None:
    """Entry point: map errors to exit codes and one-paragraph messages."""
    try:
        # With standalone_mode=False, Typer returns (not raises) the code of a
        # `typer.Exit` raised by a command, and turns Ctrl-C into `Exit(130)`.
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except (ConfigError, OutputError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted: no run directory was kept", highlight=False)
        raise SystemExit(130) from None
    except typer.Abort:
        err.print("interrupted: no run directory was kept", highlight=False)
        raise SystemExit(130) from None
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # Click usage errors: exit 2
            exc.show()
            raise SystemExit(exc.exit_code) from None
        if os.environ.get("SCENARIOS_DEBUG"):
            traceback.print_exc()
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
            "(set SCENARIOS_DEBUG=1 for a traceback)",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(1) from None
    if isinstance(code, int) and code != 0:
        if code == 130:
            err.print("interrupted: no run directory was kept", highlight=False)
        raise SystemExit(code)


if __name__ == "__main__":
    main()
