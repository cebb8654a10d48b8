"""What `scenarios run` prints at 80 columns, against a golden file.

The golden file ``tests/golden/run_table_80.txt`` is the table, the note on intervals and
the precision notes of a fixed small run (baseline, seed 1, 3 replications of 60 weeks) as
``scenarios run`` prints them at 80 columns. After an intended change of the table or of
the model's outputs, regenerate it and review the diff:

    SCENARIOS_REGENERATE_GOLDEN=1 pytest tests/report/test_run_table.py
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console
from tests.conftest import COUNTRIES, config, run, synthetic_summary

from scenarios import cli
from scenarios.experiment.compare import territories
from scenarios.report.tables import core_trust_pairs, key_outcomes

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "run_table_80.txt"
SMALL_RUN = ("run.replications=3", "run.steps=60", "run.seed=1")
WIDTH = 80


def printed(
    monkeypatch: pytest.MonkeyPatch, name: str, overrides: tuple[str, ...], width: int = WIDTH
) -> str:
    """stdout then stderr of the CLI's run table for a shipped config, at ``width`` columns."""
    cfg = config(name, *overrides)
    rows = core_trust_pairs(
        key_outcomes(run(name, *overrides).summary, cfg.threat.name, territories(cfg))
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=stdout, width=width, color_system=None))
    monkeypatch.setattr(cli, "err", Console(file=stderr, width=width, color_system=None))
    cli._print_run_table(cfg, rows)
    return stdout.getvalue() + "--- stderr ---\n" + stderr.getvalue()


def check_fits(text: str) -> None:
    for line in text.splitlines():
        assert len(line) <= WIDTH, line
        assert "…" not in line, line
        assert not line.rstrip().endswith("..."), line


def test_run_table_at_80_columns_matches_the_golden_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = printed(monkeypatch, "baseline", SMALL_RUN)
    if os.environ.get("SCENARIOS_REGENERATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    check_fits(text)
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "the run table changed; if intended, regenerate with SCENARIOS_REGENERATE_GOLDEN=1 "
        "(see this module's docstring) and review the diff"
    )


def test_golden_file_fits_80_columns_and_cuts_no_label() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    check_fits(text)
    assert "Attacks in Afghanistan (Taliban)" in text
    assert "method" not in text.split("--- stderr ---")[0].splitlines()[2]  # no method column


@pytest.mark.parametrize("name", ["trilateral", "historical_2022_2024"])
def test_other_configs_fit_80_columns(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    check_fits(printed(monkeypatch, name, SMALL_RUN))


def test_every_label_is_whole_and_no_word_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each row's label, read back from the wrapped cells, is the label itself."""
    import numpy as np

    from scenarios.report.tables import to_rich

    rng = np.random.default_rng(5)
    frame = synthetic_summary({c: rng.poisson(5.0, 8) * 1.0 for c in COUNTRIES}, list(range(8)))
    frame["attack_change__central_asia"] = rng.normal(0.0, 0.5, 8)
    rows = key_outcomes(frame, territory=territories(config("baseline")))
    buffer = io.StringIO()
    Console(file=buffer, width=WIDTH, color_system=None).print(to_rich(rows, "t"))
    text = buffer.getvalue()
    check_fits(text)
    cells: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            if line.startswith("├") or line.startswith("└"):
                cells.append([])
            continue
        first = line.split("│")[1].strip()
        value = line.split("│")[2].strip()
        if value or not cells:
            cells.append([first])
        else:
            cells[-1].append(first)
    labels = [" ".join(parts) for parts in cells if parts]
    assert labels == [row.label for row in rows]


def test_piped_width_wraps_no_label(monkeypatch: pytest.MonkeyPatch) -> None:
    """At PIPED_WIDTH (output to a file, no COLUMNS) every label is on one line."""
    cfg = config("baseline", *SMALL_RUN)
    rows = key_outcomes(run("baseline", *SMALL_RUN).summary, territory=territories(cfg))
    text = printed(monkeypatch, "baseline", SMALL_RUN, width=cli.PIPED_WIDTH)
    lines = text.splitlines()
    for row in core_trust_pairs(rows):
        assert any(f"│ {row.label} " in line for line in lines), row.label
