"""The compiled week: one engine for runs and steps, tables that grow mid-week, agents in
sync, and a numba cache that cannot go stale."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import mesa
import numba
import numpy as np
import pytest
from tests.conftest import ROOT

from scenarios.config import load_config
from scenarios.model import _numba_cache, engine, kernels
from scenarios.model.agents import ThreatCell
from scenarios.model.model import ScenarioModel, run_replication

HISTORICAL = ROOT / "configs" / "historical_2022_2024.yaml"


def small_historical() -> object:
    # Interventions switch parameters mid-run; a short spin-up keeps the test quick.
    return load_config(HISTORICAL, ["run.burn_in=20"])


def test_stepping_week_by_week_equals_one_compiled_run() -> None:
    cfg = small_historical()
    whole = ScenarioModel(cfg, 7).run()
    stepped = ScenarioModel(cfg, 7)
    for _ in range(cfg.run.burn_in + cfg.run.steps):
        stepped.step()
    weekly = stepped.recorder.columns()
    assert weekly.keys() == whole.keys()
    for name, series in whole.items():
        assert np.array_equal(series, weekly[name]), name
    assert stepped.steps == cfg.run.burn_in + cfg.run.steps  # Mesa's clock counted weeks


def test_headless_replication_equals_a_model_with_agents() -> None:
    cfg = small_historical()
    columns, summary = run_replication(cfg, 3)
    model = ScenarioModel(cfg, 3, cell_agents=True)
    with_agents = model.run()
    for name, series in columns.items():
        assert np.array_equal(series, with_agents[name]), name
    assert summary["attacks_successful"] == with_agents["attacks_successful"].sum()


def test_the_week_specialised_for_five_actors_equals_the_generic_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Other actor counts run the generic week (an array of actors): same outputs."""
    cfg = small_historical()
    assert len(cfg.actors) == engine.SPECIALISED_ACTORS
    assert isinstance(engine.actor_indices(len(cfg.actors)), tuple)
    assert isinstance(engine.actor_indices(3), np.ndarray)
    specialised, summary = run_replication(cfg, 5)
    monkeypatch.setattr(engine, "actor_indices", np.arange)
    generic, generic_summary = run_replication(small_historical(), 5)  # a new config
    for name, series in specialised.items():
        assert np.array_equal(series, generic[name]), name
    assert summary.keys() == generic_summary.keys()
    np.testing.assert_array_equal(list(summary.values()), list(generic_summary.values()))


def test_the_fork_servers_warm_up_loads_the_specialised_week() -> None:
    from scenarios.config import ScenarioConfig
    from scenarios.experiment.warm import TINY

    assert len(ScenarioConfig.model_validate(TINY).actors) == engine.SPECIALISED_ACTORS


def test_tables_that_fill_up_grow_and_the_week_resumes_where_it_stopped() -> None:
    cfg = load_config(ROOT / "configs" / "baseline.yaml", ["run.steps=60", "run.burn_in=10"])
    reference = ScenarioModel(cfg, 11).run()
    model = ScenarioModel(cfg, 11)
    model.plots.arrays = model.plots._allocate(2)  # full after the first plots of a week
    cells = model.cells
    cells.state = kernels.CellState(*(a[: cells.size].copy() for a in cells.state))
    statuses: list[int] = []
    handle = model._handle
    model._handle = lambda status: (statuses.append(status), handle(status))  # type: ignore[method-assign]
    columns = model.run()
    assert engine.GROW_PLOTS in statuses
    assert engine.GROW_CELLS in statuses
    for name, series in reference.items():
        assert np.array_equal(series, columns[name]), name


def test_agents_follow_the_cell_table_after_each_step() -> None:
    model = ScenarioModel(small_historical(), 5)
    for _ in range(40):
        model.step()
        live = model.cells.live_slots()
        agents = list(model.agents_by_type[ThreatCell])
        assert sorted(a.slot for a in agents) == list(live)
        for agent in agents:
            assert agent.cell is model.region_cells[int(model.cells.region[agent.slot])]
    assert model.agents_by_type[ThreatCell].agg("strength", sum) == model.strength


def test_numba_cache_is_keyed_by_every_compiled_source(tmp_path, monkeypatch) -> None:
    # The compiled week links kernels and intel; numba alone checks only engine.py.
    real = _numba_cache.sources_digest()
    assert f"{_numba_cache.PREFIX}{real}" in engine.advance._cache._cache_path
    for name in _numba_cache.SOURCES:
        (tmp_path / name).write_text(f"# {name}\n")
    monkeypatch.setattr(_numba_cache, "HERE", tmp_path)
    first = _numba_cache.sources_digest()
    (tmp_path / "kernels.py").write_text("# kernels.py, edited\n")
    edited = _numba_cache.sources_digest()
    assert edited != first
    before = numba.config.CACHE_DIR
    with _numba_cache.keyed_cache():
        assert numba.config.CACHE_DIR.endswith(f"{_numba_cache.PREFIX}{edited}")
    assert before == numba.config.CACHE_DIR


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 17, 100])
def test_row_sums_follow_numpy_pairwise_summation(n: int) -> None:
    rng = np.random.default_rng(n)
    row = rng.random(n) * rng.random(n) * 1e3
    assert engine.pairwise_sum(row) == row.sum()  # bit for bit, not approximately


class Batchable(ScenarioModel):
    """ScenarioModel as ``mesa.batch_run`` wants it: keyword parameters and a DataCollector."""

    def __init__(self, steps: int = 30, rng: int | None = None) -> None:
        config = load_config(ROOT / "configs" / "baseline.yaml", [f"run.steps={steps}"])
        super().__init__(config, np.random.SeedSequence(rng))
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "attacks": lambda m: m.recorder.country["attacks_successful"].sum(),
                "agent_strength": lambda m: m.agents_by_type[ThreatCell].agg("strength", sum),
            }
        )

    def step(self) -> None:
        super().step()
        if self.week >= self.config.run.steps:
            self.datacollector.collect(self)
            self.running = False


def test_mesa_batch_run_steps_the_same_compiled_week() -> None:
    start_method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(
            Batchable, {"steps": 30}, rng=[4, 5], max_steps=1000, display_progress=False
        )
    finally:  # batch_run forces "spawn" for the whole process
        multiprocessing.set_start_method(start_method, force=True)
    config = load_config(ROOT / "configs" / "baseline.yaml", ["run.steps=30"])
    for row, seed in zip(rows, (4, 5), strict=True):
        _, summary = run_replication(config, seed)
        assert row["attacks"] == summary["attacks_successful"]
        assert row["agent_strength"] == summary["final_strength"]


def test_the_compiled_modules_load_under_their_keyed_cache_whatever_is_imported_first() -> None:
    # Drivers import scenarios.model.outcomes without Mesa or numba; whichever module of
    # the model a process imports first, the compiled ones come from the keyed cache.
    code = (
        "import sys\n"
        "import scenarios.experiment.sweep, scenarios.experiment.executor\n"
        "from scenarios.model.outcomes import summary_columns\n"
        "summary_columns(3, ['home', 'abroad'], ['us'], 'home')\n"
        "assert 'numba' not in sys.modules and 'mesa' not in sys.modules\n"
        "from scenarios.model.{first} import {name}\n"
        "from scenarios.model import engine\n"
        "print(engine.advance._cache._cache_path)\n"
    )
    for first, name in [
        ("agents", "ThreatCell"),
        ("outcomes", "Recorder"),
        ("model", "run_replication"),
        ("simulation", "run_replication"),  # what workers import first
    ]:
        done = subprocess.run(
            [sys.executable, "-c", code.format(first=first, name=name)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"{_numba_cache.PREFIX}{_numba_cache.sources_digest()}" in done.stdout, first


def test_levels_per_country_are_summarised_by_their_last_week() -> None:
    """`summarise` takes the last week of a column whose family is in LEVELS and sums the
    rest; the per-country levels (strength in a country) must be among them, as they were
    when their last week was taken unconditionally."""
    from scenarios.model.outcomes import COUNTRY_LEVELS, LEVELS

    assert set(COUNTRY_LEVELS) <= LEVELS
