"""report.md and a self-contained report.html for a comparison of scenarios."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

from scenarios.experiment.compare import Comparison, is_event
from scenarios.report.decision import (
    bottom_line,
    cell,
    level_text,
    needs_note,
    reading_note,
    summary_tables,
)


def fold(value: float) -> str:
    """A variance reduction as a factor: x5.1; inf when the difference did not vary."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"x{value:,.0f}" if value >= 100 else f"x{value:.1f}"


def summary_rows(cmp: Comparison) -> list[list[str]]:
    """Rows of the full table: outcome, baseline level [95%], each scenario's change.

    A scenario's cell: its change against the baseline with the 95% interval (relative
    where the baseline supports it, see :func:`decision.change_text`) and the verdict.
    """
    rows = []
    for outcome in cmp.outcomes:
        stat = "probability" if is_event(outcome) else "mean"
        b = cmp.value(cmp.baseline.label, outcome, stat)
        row = [cmp.label(outcome), level_text(b.value, b.ci_low, b.ci_high)]
        row += [cell(cmp.effect(scenario, outcome)) for scenario in cmp.others()]
        rows.append(row)
    return rows


def methods_line(cmp: Comparison) -> str:
    """Which scenarios were paired with the baseline and which were not."""
    paired = [k for k, v in cmp.paired.items() if v and k != cmp.baseline.label]
    welch = [k for k, v in cmp.paired.items() if not v]
    parts = []
    if paired:
        parts.append(
            f"paired t on replication-by-replication differences (common random numbers) for "
            f"{', '.join(paired)}"
        )
    if welch:
        parts.append(f"Welch's unpaired t (seeds differ) for {', '.join(welch)}")
    return "; ".join(parts)


def _paired_others(cmp: Comparison) -> list[str]:
    return [r.label for r in cmp.runs if r is not cmp.baseline and cmp.paired[r.label]]


PAIRING_CAPTION = (
    "(var(baseline) + var(scenario)) / var(difference): how many times more replications "
    "an unpaired comparison would need for the same precision"
)


def pairing_rows(cmp: Comparison) -> tuple[str, list[str], list[list[str]]]:
    """Terminal table of the variance reduction pairing achieved: title, header, rows.

    One row per paired scenario (common random numbers). Columns: successful attacks in
    total and on each partner's territory (from the decision summary's places); the first
    outcomes compared when no attack outcome is. No rows when nothing is paired.
    """
    from scenarios.report.decision import partner_places

    others = _paired_others(cmp)
    chosen, names = [], []
    for place in partner_places(cmp):
        outcome = place.outcome("attacks_successful")
        if outcome in cmp.outcomes:
            chosen.append(outcome)
            names.append("total" if place.country is None else place.name.split(" (")[0])
    title = "Variance reduction from pairing: successful attacks"
    if not chosen:
        title = "Variance reduction from pairing"
        chosen = cmp.outcomes[:4]
        names = [cmp.label(o) for o in chosen]
    rows = [[label, *(fold(cmp.variance_reduction(label, o)) for o in chosen)] for label in others]
    return title, ["scenario", *names], rows


def methods_section(cmp: Comparison) -> list[str]:
    """Markdown: how differences were computed and what pairing gained, per outcome."""
    lines = ["## Methods", "", f"Differences: {methods_line(cmp)}.", ""]
    others = _paired_others(cmp)
    if not others:
        return [
            *lines,
            "No scenario shares the baseline's replication seeds, so none is paired.",
            "",
        ]
    lines += [
        "Variance reduction from pairing: (var(baseline) + var(scenario)) / var(scenario - "
        "baseline), over replications. It is how many times more replications an unpaired "
        "comparison would need for the same precision (x1: pairing gained nothing; inf: the "
        "difference did not vary; n/a: the outcome did not vary).",
        "",
        "| outcome | " + " | ".join(others) + " |",
        "|" + "---|" + "---:|" * len(others),
    ]
    for outcome in cmp.outcomes:
        cells = [fold(cmp.variance_reduction(label, outcome)) for label in others]
        lines.append(f"| {cmp.label(outcome)} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def ensemble_summary(cmp: Comparison) -> list[str]:
    """Plain sentences on a comparison over a posterior ensemble (none without one).

    What the runs are over, then per scenario paired over it, how much of the spread of
    its difference in the first outcome compared comes from parameters and from chance.
    """
    from scenarios.report.tables import shares_sentence

    e = cmp.ensemble
    if e is None:
        return []
    lines = [
        f"These runs are over a posterior ensemble: {e.get('draws')} parameter draws from "
        f"calibration `{e.get('calibration')}` ({e.get('particles')} weighted particles), "
        f"{e.get('replications_per_draw')} replications per draw. Replication i of every "
        "scenario used the same seed and the same parameter draw, so differences stay "
        "paired and their spread carries parameter uncertainty as well as chance."
    ]
    if not cmp.ensemble_paired:
        lines.append(
            "No scenario ran over the same ensemble and seeds as the baseline, so the "
            "spread of the differences is not split into parameters and chance."
        )
        return lines
    outcome = cmp.outcomes[0]
    for scenario in cmp.ensemble_paired:
        effect = cmp.effect(scenario, outcome)
        label = f"this difference ({scenario}, {cmp.label(outcome).lower()})"
        lines.append(shares_sentence(label, effect.parameter_share, effect.chance_share))
    return lines


def ensemble_section(cmp: Comparison) -> list[str]:
    """Markdown: the ensemble, its sentences, and each difference's parameter/chance split."""
    if cmp.ensemble is None:
        return []
    summary = ensemble_summary(cmp)
    lines = ["## Posterior ensemble", "", summary[0], ""]
    lines += [f"- {sentence}" for sentence in summary[1:]]
    others = cmp.ensemble_paired
    if not others:
        return [*lines, ""]
    lines += [
        "",
        "Share of the variance over replications of each difference from the baseline that "
        "comes from the parameters (between draws) and from chance (within draws), by a "
        "one-way random-effects decomposition (method of moments):",
        "",
        "| outcome | " + " | ".join(f"{s}: parameters | {s}: chance" for s in others) + " |",
        "|---|" + "---:|---:|" * len(others),
    ]
    for outcome in cmp.outcomes:
        cells = []
        for scenario in others:
            effect = cmp.effect(scenario, outcome)
            cells += [share_text(effect.parameter_share), share_text(effect.chance_share)]
        lines.append(f"| {cmp.label(outcome)} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def share_text(share: float) -> str:
    """A share as a whole percentage; n/a when it cannot be estimated."""
    return "n/a" if math.isnan(share) else f"{share:.0%}"


def decision_markdown(cmp: Comparison, figures: dict[str, str]) -> list[str]:
    """The decision summary: a sentence per scenario, the per-partner tables, the frontier.

    Wrapped in ``<div>`` blocks that report.html lays out side by side (summary left,
    frontier right); in Markdown they are plain blocks one after the other.
    """
    others = cmp.others()
    lines = ['<div class="decision">', '<div class="verdicts">', "", "## Decision summary", ""]
    lines += [f"- **{scenario}**: {bottom_line(cmp, scenario)}" for scenario in others]
    lines.append("")
    for table in summary_tables(cmp):
        lines += [f"**{table.title}**", ""]
        lines += ["| " + " | ".join([table.corner, *others]) + " |"]
        lines += ["|" + "---|" * (len(others) + 1)]
        lines += ["| " + " | ".join([name, *cells]) + " |" for name, cells in table.rows]
        lines.append("")
    lines += [f"*{reading_note(cmp)}*", ""]
    if needs := needs_note(cmp):
        lines += [f"*{needs}*", ""]
    lines.append("</div>")
    if "frontier.png" in figures:
        lines += ['<div class="frontier">', "", f"![{figures['frontier.png']}](plots/frontier.png)"]
        lines += ["", "</div>"]
    return [*lines, "</div>", ""]


def to_markdown(cmp: Comparison, figures: dict[str, str], title: str, description: str) -> str:
    """The comparison report in Markdown, embedding ``plots/*.png`` by path.

    The decision summary and the frontier come first; the full table, the methods, the
    precision warnings and the other figures follow in collapsed ``<details>`` blocks.
    """
    others = cmp.others()
    header = ["outcome", f"{cmp.baseline.label} (baseline)", *others]
    lines = [f"# {title}", "", description.strip(), "", *decision_markdown(cmp, figures)]
    lines += ensemble_section(cmp)
    lines += ["<details open>", "<summary>Full table</summary>", ""]
    lines += [
        f"Baseline level with its 95% interval; for each scenario, its change against "
        f"`{cmp.baseline.label}` as in the decision summary.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in summary_rows(cmp)]
    lines += ["", "</details>", ""]
    if cmp.warnings:
        lines += [
            "<details>",
            f"<summary>Precision: {len(cmp.warnings)} differences cannot be told apart at "
            "this number of replications</summary>",
            "",
            "Replications that would make the 95% interval of the difference as narrow as "
            "the difference worth telling (the precision asked for):",
            "",
        ]
        lines += [f"- {w.message()}" for w in cmp.warnings]
        lines += ["", "</details>", ""]
    lines += ["<details>", "<summary>Methods</summary>", "", *methods_section(cmp)[2:]]
    lines += ["</details>", ""]
    lines += ["<details>", "<summary>Figures</summary>", ""]
    note = cmp.timeseries_note()
    if note:
        lines += [note, ""]
    for name, caption in figures.items():
        if name != "frontier.png":
            lines += [f"![{caption}](plots/{name})", "", f"*{caption}*", ""]
    lines += ["</details>", "", "## Runs", ""]
    for run in cmp.runs:
        lines.append(
            f"- `{run.label}`: {run.path} ({len(run.summary)} replications, root seed "
            f"{run.manifest.get('root_seed')}, config {str(run.manifest.get('config_hash'))[:12]})"
        )
    return "\n".join(lines) + "\n"


def write_report(out: Path, markdown_text: str) -> Path:
    """Write ``out/report.md`` and its self-contained ``out/report.html``; return the latter."""
    from scenarios.experiment import store

    store.write_atomic(out / "report.md", markdown_text.encode())
    page = out / "report.html"
    store.write_atomic(page, to_html(markdown_text, out).encode())
    return page


def to_html(markdown_text: str, folder: Path) -> str:
    """A self-contained HTML page from the report's Markdown, images inlined as base64."""
    body: list[str] = []
    in_table = False
    in_list = False
    for raw in markdown_text.splitlines():
        line = raw.rstrip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= {"-", ":"} for c in cells):
                continue
            if not in_table:
                body.append("<table>")
                tag = "th"
                in_table = True
            else:
                tag = "td"
            body.append("<tr>" + "".join(_cell(tag, c) for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if line.startswith("<"):
            body.append(line)  # the report's own layout blocks (<div>, <details>, <summary>)
        elif line.startswith("!["):
            alt, src = line[2:].split("](", 1)
            data = base64.b64encode((folder / src.rstrip(")")).read_bytes()).decode()
            body.append(
                f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(alt)}</figcaption></figure>"
            )
        elif line.startswith("# "):
            body.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.startswith("**") and line.endswith("**"):
            body.append(f"<h3>{_inline(line[2:-2])}</h3>")
        elif line.startswith("*") and line.endswith("*") and len(line) > 2:
            if len(line) > 120:  # a note, not a caption
                body.append(f"<p class='note'>{_inline(line[1:-1])}</p>")
            # captions are rendered under the figure
        elif line:
            body.append(f"<p>{_inline(line)}</p>")
    if in_table:
        body.append("</table>")
    if in_list:
        body.append("</ul>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1500px;margin:0.5em auto;"
        "padding:0 0.8em;color:#222;font-size:14px}h1{font-size:22px;margin:0.2em 0}"
        "h2{font-size:18px;margin:0.4em 0}h3{font-size:14px;margin:0.6em 0 0.2em}"
        "table{border-collapse:collapse;font-size:12.5px}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:left}th{background:#f3f3f3}img{max-width:100%}"
        "figcaption{font-style:italic;font-size:12px;color:#555}code{background:#f3f3f3}"
        "p{line-height:1.4}"
        ".decision{display:flex;gap:1em;align-items:flex-start}.verdicts td{white-space:nowrap}"
        ".verdicts table{font-size:11.5px}.verdicts td,.verdicts th{padding:1px 4px}"
        ".verdicts{flex:1 1 0;min-width:0}.frontier{flex:0 0 24%}.verdicts ul{margin:0.2em 0;"
        "padding-left:1.2em}.verdicts li{margin-bottom:0.2em}p.note{font-size:12px;color:#555}"
        "td.lower{background:#e8f0fe}td.higher{background:#fff1e0}"
        "summary{font-weight:600;font-size:16px;margin:0.6em 0;cursor:pointer}"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>scenarios report</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _cell(tag: str, text: str) -> str:
    """A table cell; a verdict of lower or higher shades it (green, red)."""
    verdict = text.rsplit(" ", 1)[-1] if tag == "td" else ""
    shade = f' class="{verdict}"' if verdict in ("lower", "higher") else ""
    return f"<{tag}{shade}>{_inline(text)}</{tag}>"


def _inline(text: str) -> str:
    out = html.escape(text)
    bold = out.split("**")
    out = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(bold))
    parts = out.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def write_comparison(
    cmp: Comparison,
    out: Path,
    title: str,
    description: str = "",
    manifest: dict[str, Any] | None = None,
) -> Path:
    """Write comparison.csv, plots/*.png, report.md and report.html into ``out``.

    With ``manifest``, ``out`` is a comparison's own directory: its manifest.json is written
    first with ``status: running`` and says ``complete`` only once every file is written.
    """
    from scenarios.experiment import store
    from scenarios.report import compare_plots

    out.mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        manifest = {**manifest, "status": "running"}
        store.write_json(manifest, out / store.MANIFEST)
    store.write_atomic(out / "comparison.csv", cmp.table.to_csv(index=False).encode())
    figures = compare_plots.draw_all(cmp, out / "plots")
    markdown_text = to_markdown(cmp, figures, title, description)
    write_report(out, markdown_text)
    if manifest is not None:
        store.write_json({**manifest, "status": "complete"}, out / store.MANIFEST)
    return out
