"""report.md of one run: what was run, the key outcomes with intervals, the figures."""

from __future__ import annotations

from typing import Any

from scenarios.config import ScenarioConfig
from scenarios.report.tables import (
    INTERVALS_NOTE,
    SHARES_NOTE,
    Row,
    Shares,
    shares_sentence,
    to_markdown,
)


def ensemble_lines(ensemble: dict[str, Any]) -> list[str]:
    """What a run over a posterior ensemble says of it (bullets of the run's description)."""
    parameters = ", ".join(f"`{p}`" for p in ensemble.get("parameters", []))
    return [
        f"- Posterior ensemble: {ensemble.get('draws')} parameter draws from calibration "
        f"`{ensemble.get('calibration')}` ({ensemble.get('particles')} weighted particles, "
        f"posterior.parquet SHA-256 `{str(ensemble.get('posterior_sha256', ''))[:16]}`), "
        f"{ensemble.get('replications_per_draw')} replications per draw; calibrated "
        f"parameters: {parameters}",
    ]


def run_report(
    config: ScenarioConfig,
    rows: list[Row],
    figures: dict[str, str],
    manifest: dict,
    shares: Shares | None = None,
) -> str:
    """Markdown report embedding ``plots/*.png``.

    A run over a posterior ensemble (``manifest["ensemble"]``) says so, and with
    ``shares`` its table splits each outcome's variance into parameters and chance.
    """
    ensemble = manifest.get("ensemble")
    run = config.run
    end = config.date_of(run.steps - 1)
    lines = [
        f"# Scenario `{config.name}`",
        "",
        config.description.strip(),
        "",
        f"- Weeks simulated: {run.steps} ({run.start} to {end}), after {run.burn_in} "
        "weeks of spin-up",
        f"- Replications: {run.replications}; root seed {run.seed}",
        *(
            []
            if run.timeseries
            else [
                "- Weekly series: not kept (`run.timeseries: false`, `--no-timeseries`): "
                "no timeseries.parquet and no weekly figures"
            ]
        ),
        *(ensemble_lines(ensemble) if ensemble else []),
        f"- Config hash: `{manifest['config_hash'][:16]}`",
        f"- Package versions: {', '.join(f'{k} {v}' for k, v in manifest['versions'].items())}",
        "",
        "This is a comparison tool for stylised scenarios, not a forecast: read differences "
        "between scenarios, not levels.",
        "",
        "## Key outcomes",
        "",
        INTERVALS_NOTE,
        "",
        *([SHARES_NOTE, ""] if shares is not None else []),
        to_markdown(rows, shares),
        "",
        *(_shares_summary(rows, shares) if shares is not None else []),
        "## Figures",
        "",
    ]
    for name, caption in figures.items():
        lines += [f"![{caption}](plots/{name})", "", f"*{caption}*", ""]
    return "\n".join(lines)


def _shares_summary(rows: list[Row], shares: Shares) -> list[str]:
    """The sentence for the first outcome of the table (total attacks where there is one)."""
    first = next((r for r in rows if r.column == "attacks_successful"), rows[0] if rows else None)
    if first is None or first.column not in shares:
        return []
    split = shares[first.column]
    return [shares_sentence(f"“{first.label}”", split.parameter_share, split.chance_share), ""]
