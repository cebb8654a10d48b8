"""report.md of one run: what was run, the key outcomes with intervals, the figures."""

from __future__ import annotations

from scenarios.config import ScenarioConfig
from scenarios.report.tables import INTERVALS_NOTE, Row, to_markdown


def run_report(
    config: ScenarioConfig, rows: list[Row], figures: dict[str, str], manifest: dict
) -> str:
    """Markdown report embedding ``plots/*.png``."""
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
        to_markdown(rows),
        "",
        "## Figures",
        "",
    ]
    for name, caption in figures.items():
        lines += [f"![{caption}](plots/{name})", "", f"*{caption}*", ""]
    return "\n".join(lines)
