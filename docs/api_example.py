"""The Python API, notebook style: run two scenarios, compare them, save a run.

Each ``# %%`` cell runs in Jupyter (VS Code, JupyterLab with jupytext) or, top to bottom,
as a plain script: ``python docs/api_example.py`` from the repository. Small on purpose
(a few replications of half a year), so it takes seconds, not minutes: the figures are
illustrative, not estimates. No ``if __name__ == "__main__":`` guard is needed, also
with ``workers=2``.
"""

# %% Set-up: where the shipped configs are (this file's repository, or the working directory)
import tempfile
from pathlib import Path

import scenarios

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd() / "docs"
CONFIGS = HERE.parent / "configs"

# %% Load and check a config; overrides are the CLI's --set (dotted keys)
baseline_config = scenarios.load_config(CONFIGS / "baseline.yaml", {"run.steps": 26})
print(baseline_config.name, baseline_config.run.steps, "weeks")

# %% Run the baseline and the trilateral-sharing scenario (same seeds: paired comparison)
baseline = scenarios.run(baseline_config, replications=4, workers=2)
trilateral = scenarios.run(CONFIGS / "trilateral.yaml", replications=4, steps=26, workers=2)
print(baseline.summary[["replication", "attacks_successful", "fatalities"]])

# %% Weekly series: mean successful attacks per week across replications
weekly = baseline.timeseries.groupby("date")["attacks_successful"].mean()
print(weekly.tail())

# %% Compare against the baseline: one tidy table (as comparison.csv)
table = scenarios.compare([baseline, trilateral], baseline="baseline")
differences = table[table.statistic == "difference"]
print(differences[["outcome", "value", "ci_low", "ci_high", "verdict"]].to_string(index=False))

# %% Save a run: the same directory `scenarios run --out` writes (compare, report, reuse)
with tempfile.TemporaryDirectory() as tmp:
    run_dir = trilateral.save(Path(tmp) / "trilateral")
    print(sorted(p.name for p in run_dir.iterdir()))
