"""Print the pattern-oriented validation figures of a scenario (default: historical).

python benchmarks/calibration_report.py [CONFIG] [-n REPLICATIONS] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse

import numpy as np

from scenarios.config import load_config
from scenarios.experiment.runner import run_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", nargs="?", default="configs/historical_2022_2024.yaml")
    parser.add_argument("-n", "--replications", type=int, default=60)
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args()
    cfg = load_config(args.config, [f"run.replications={args.replications}", *args.set])
    result = run_scenario(cfg, workers=2)
    s, ts = result.summary, result.timeseries
    home = cfg.threat.home_country
    print(f"{cfg.name}: {len(s)} replications x {cfg.run.steps} weeks")
    change = s[f"attack_change__{home}"]
    print(
        f"  {home} attack change, first vs last 26 weeks: median {change.median():+.0%} "
        f"(5-95%: {change.quantile(0.05):+.0%} .. {change.quantile(0.95):+.0%})"
    )
    first = ts[ts.step < 26].groupby("replication")[f"attacks_successful__{home}"].sum()
    last = (
        ts[ts.step >= cfg.run.steps - 26]
        .groupby("replication")[f"attacks_successful__{home}"]
        .sum()
    )
    print(
        f"  {home} successful attacks: first 26 weeks median {first.median():.0f}, "
        f"last 26 weeks median {last.median():.0f}"
    )
    per_year = (
        ts.assign(year=ts.date.dt.year)
        .groupby(["replication", "year"])[
            [c for c in ts.columns if c.startswith("attacks_successful__")]
        ]
        .sum()
        .groupby("year")
        .median()
    )
    print("  median successful attacks per calendar year:\n" + per_year.to_string())
    print(
        f"  share abroad: first year median {s.share_abroad_first_year.median():.2f}, "
        f"last year {s.share_abroad_last_year.median():.2f}; "
        f"P(last > first) {(s.share_abroad_last_year > s.share_abroad_first_year).mean():.2f}"
    )
    external = [
        c
        for c in s.columns
        if c.startswith("mass_casualty_despite_warning__") and not c.endswith(home)
    ]
    despite = (s[external].sum(axis=1) > 0).mean()
    print(f"  replications with a mass-casualty attack abroad despite a warning: {despite:.2f}")
    print(
        f"  strength: min over reps {s.min_strength.min():.0f}, max {s.max_strength.max():.0f}, "
        f"final median {s.final_strength.median():.0f}"
    )
    edges = [1, 2, 5, 10, 25, 50, 100, 250]
    ccdf = np.array([s[f"attacks_with_fatalities_ge__{e}"].sum() for e in edges])
    tail = ", ".join(f">={e}: {c / ccdf[0]:.3f}" for e, c in zip(edges, ccdf, strict=True))
    print("  severity CCDF: " + tail)
    print(
        f"  mass-casualty attacks per year (all countries): "
        f"{s.mass_casualty_attacks.mean() / s.years.mean():.2f}"
    )
    print(
        f"  share interdicted {s.share_interdicted.mean():.2f}; warnings issued/heeded "
        f"{s.warnings_issued.mean():.0f}/{s.warnings_heeded.mean():.0f}"
    )


if __name__ == "__main__":
    main()
