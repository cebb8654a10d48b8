"""report.md and a self-contained report.html for a comparison of scenarios."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

from scenarios.experiment.compare import Comparison, country_labels, is_event


def fmt(value: float, outcome: str = "") -> str:
    """A number at a sensible precision for its outcome."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if is_event(outcome) or "trust" in outcome or outcome == "share_interdicted":
        return f"{value:.3f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def pct(value: float) -> str:
    """A relative change as a signed percentage."""
    return "n/a" if math.isnan(value) else f"{100 * value:+.1f}%"


def fold(value: float) -> str:
    """A variance reduction as a factor: x5.1; inf when the difference did not vary."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"x{value:,.0f}" if value >= 100 else f"x{value:.1f}"


def summary_rows(cmp: Comparison) -> list[list[str]]:
    """Rows of the headline table: outcome, baseline estimate, then each scenario's change."""
    t = cmp.table
    others = [r.label for r in cmp.runs if r is not cmp.baseline]
    rows = []
    for outcome in cmp.outcomes:
        stat = "probability" if is_event(outcome) else "mean"
        b = cmp.value(cmp.baseline.label, outcome, stat)
        row = [
            cmp.label(outcome),
            f"{fmt(b.value, outcome)} [{fmt(b.ci_low, outcome)}, {fmt(b.ci_high, outcome)}]",
        ]
        for label in others:
            sel = t[(t.scenario == label) & (t.outcome == outcome)]
            v = sel[sel.statistic == stat].iloc[0]
            d = sel[sel.statistic == "difference"].iloc[0]
            r = sel[sel.statistic == "relative_change"].iloc[0]
            significant = d.ci_low > 0 or d.ci_high < 0
            mark = " *" if significant else ""
            row.append(
                f"{fmt(v.value, outcome)}; {pct(r.value)} [{pct(r.ci_low)}, {pct(r.ci_high)}]{mark}"
            )
        rows.append(row)
    return rows


def compact_rows(cmp: Comparison) -> list[list[str]]:
    """Terminal rows: outcome, baseline estimate, each scenario's relative change.

    A ``*`` marks a difference whose 95% CI excludes zero.
    """
    t = cmp.table
    others = [r.label for r in cmp.runs if r is not cmp.baseline]
    rows = []
    for outcome in cmp.outcomes:
        stat = "probability" if is_event(outcome) else "mean"
        row = [
            cmp.label(outcome).replace("__", " "),
            fmt(cmp.value(cmp.baseline.label, outcome, stat).value, outcome),
        ]
        for label in others:
            sel = t[(t.scenario == label) & (t.outcome == outcome)]
            d = sel[sel.statistic == "difference"].iloc[0]
            r = sel[sel.statistic == "relative_change"].iloc[0]
            mark = "*" if d.ci_low > 0 or d.ci_high < 0 else ""
            shown = pct(r.value) if not math.isnan(r.value) else f"{d.value:+.2f} abs"
            row.append(f"{shown}{mark}")
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
    total and per country (actors' territories first, in actor order, labelled with the
    actor); the first outcomes compared when no attack outcome is. No rows when nothing is
    paired.
    """
    others = _paired_others(cmp)
    order = {f"attacks_successful__{c}": k for k, c in enumerate(country_labels(cmp.territory))}
    chosen = [o for o in cmp.outcomes if o.startswith("attacks_successful__")]
    chosen.sort(key=lambda o: order.get(o, len(order)))
    if "attacks_successful" in cmp.outcomes:
        chosen.insert(0, "attacks_successful")
    title = "Variance reduction from pairing: successful attacks"
    names = [
        "total"
        if o == "attacks_successful"
        else cmp.label(o).split("__", 1)[1].replace(" (", "\n(")
        for o in chosen
    ]
    if not chosen:
        title = "Variance reduction from pairing"
        chosen = cmp.outcomes[:4]
        names = [cmp.label(o).replace("__", " ") for o in chosen]
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


def to_markdown(cmp: Comparison, figures: dict[str, str], title: str, description: str) -> str:
    """The comparison report in Markdown, embedding ``plots/*.png`` by path."""
    others = [r.label for r in cmp.runs if r is not cmp.baseline]
    header = ["outcome", f"{cmp.baseline.label} (baseline)", *others]
    lines = [
        f"# {title}",
        "",
        description.strip(),
        "",
        *_how_to_read(cmp),
        "",
        "## Headline",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in summary_rows(cmp):
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", *methods_section(cmp)]
    if cmp.warnings:
        lines += ["## Precision", ""]
        lines += [f"- {w.message()}" for w in cmp.warnings]
        lines.append("")
    lines += ["## Figures", ""]
    note = cmp.timeseries_note()
    if note:
        lines += [note, ""]
    for name, caption in figures.items():
        lines += [f"![{caption}](plots/{name})", "", f"*{caption}*", ""]
    lines += ["## Runs", ""]
    for run in cmp.runs:
        lines.append(
            f"- `{run.label}`: {run.path} ({len(run.summary)} replications, root seed "
            f"{run.manifest.get('root_seed')}, config {str(run.manifest.get('config_hash'))[:12]})"
        )
    return "\n".join(lines) + "\n"


def _how_to_read(cmp: Comparison) -> list[str]:
    example = next(iter(country_labels(cmp.territory).values()), "west (us)")
    return [
        "How to read: each cell gives the scenario's estimate, then its change relative to "
        f"`{cmp.baseline.label}` with a 95% confidence interval. `*` marks a difference whose "
        "interval excludes zero. Attack risk (`attack_risk__<country>`) is the annual "
        "probability of at least one mass-casualty attack there (Wilson interval); "
        "`ci_exposure__<actor>` counts misuse and leaks of that actor's shared material. "
        f"A country followed by an actor in brackets, e.g. `attack_risk__{example}`, is that "
        "actor's territory. A comparison of stylised scenarios, not a forecast.",
    ]


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
            body.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
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
        if line.startswith("!["):
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
        elif line.startswith("*") and line.endswith("*") and len(line) > 2:
            continue  # captions are rendered under the figure
        elif line:
            body.append(f"<p>{_inline(line)}</p>")
    if in_table:
        body.append("</table>")
    if in_list:
        body.append("</ul>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:4px 8px;text-align:left}th{background:#f3f3f3}img{max-width:100%}"
        "figcaption{font-style:italic;font-size:13px;color:#555}code{background:#f3f3f3}"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>scenarios report</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _inline(text: str) -> str:
    out = html.escape(text)
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
    store.write_atomic(out / "report.md", markdown_text.encode())
    store.write_atomic(out / "report.html", to_html(markdown_text, out).encode())
    if manifest is not None:
        store.write_json({**manifest, "status": "complete"}, out / store.MANIFEST)
    return out
