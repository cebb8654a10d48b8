"""Print the pattern-oriented validation figures of a scenario (default: historical).

python benchmarks/calibration_report.py [CONFIG] [-n REPLICATIONS] [--set KEY=VALUE ...]
                                        [--facts PATH]

After the summary figures comes a table of every usable row of the reference facts
(``shared/reference/facts.csv`` beside the repository, or ``--facts``): fact | period |
record | model median [5%, 95%] over replications | note. Facts the model cannot speak to
(before the simulated window, no counterpart) are printed as "not comparable" with the
reason; facts that set a parameter are marked "input, not validation".
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.config import ScenarioConfig, load_config
from scenarios.experiment.runner import RunResult, run_scenario


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", nargs="?", default="configs/historical_2022_2024.yaml")
    parser.add_argument("-n", "--replications", type=int, default=60)
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--facts", type=Path, default=None, help=f"facts.csv (default: {FACTS})")
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

    facts = args.facts or FACTS
    if facts.is_file():
        print_facts(result, facts)
    else:
        print(f"\nfacts table skipped: {facts} not found (use --facts PATH)")


# ----------------------------------------------------------------------------------------
# The record (facts.csv) beside the model
# ----------------------------------------------------------------------------------------

FACTS = Path(__file__).resolve().parents[2] / "shared/reference/facts.csv"
NUMBER = r"-?\d+(?:\.\d+)?"
WEEKS_PER_MONTH = 365.25 / 7 / 12

Fmt = Callable[[float], str]


def fmt_count(x: float) -> str:
    return f"{x:,.0f}"


def fmt_pct(x: float) -> str:
    return f"{x:+.0f}%"


def fmt_share(x: float) -> str:
    return f"{x:.2f}"


@dataclass
class Line:
    """One row of the facts table."""

    fact: str
    period: str
    record: str
    model: str
    note: str


@dataclass
class Context:
    """One run of the scenario, and the dates it covers."""

    cfg: ScenarioConfig
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    start: pd.Timestamp  # first recorded week
    end: pd.Timestamp  # last day of the last recorded week
    last_week: pd.Timestamp

    @property
    def window(self) -> str:
        return f"{self.start.date()} .. {self.end.date()}"

    def weeks(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
        """Mask of the weeks whose start date lies in [start, end]."""
        date = self.timeseries["date"]
        return (date >= start) & (date <= end)

    def total(self, col: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
        """Per-replication sum of a weekly column over [start, end]."""
        ts = self.timeseries
        reps = pd.Index(sorted(ts["replication"].unique()))
        picked = ts.loc[self.weeks(start, end)]
        return picked.groupby("replication")[col].sum().reindex(reps, fill_value=0.0)

    def mean(self, col: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
        """Per-replication mean of a weekly column over [start, end]."""
        picked = self.timeseries.loc[self.weeks(start, end)]
        return picked.groupby("replication")[col].mean()

    def at_week(self, col: str, week: pd.Timestamp) -> pd.Series:
        """Per-replication value of a weekly column in the week starting ``week``."""
        ts = self.timeseries
        return ts.loc[ts["date"] == week].set_index("replication")[col]

    def year(self, col: str, year: int) -> pd.Series:
        return self.total(col, *calendar_year(year))

    def covers(self, start: pd.Timestamp, end: pd.Timestamp) -> bool:
        """Whether recorded weeks span [start, end] (up to a week's slack at either end)."""
        week = pd.Timedelta(days=7)
        return start >= self.start - week and end <= self.end + week


def calendar_year(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year, month=12, day=31)


def _one_period(text: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """``2024``, ``2023-08`` or ``2023-08-01`` as (first day, last day)."""
    if re.fullmatch(r"\d{4}", text):
        return calendar_year(int(text))
    if re.fullmatch(r"\d{4}-\d{2}", text):
        start = pd.Timestamp(f"{text}-01")
        return start, start + pd.offsets.MonthEnd(0)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = pd.Timestamp(text)
        return day, day
    return None


def period_bounds(text: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """A facts.csv period as (first day, last day), or None (``2023 vs 2022``, ``global``)."""
    text = text.strip()
    years = re.fullmatch(r"(\d{4})-(\d{4})", text)
    if years:
        return calendar_year(int(years[1]))[0], calendar_year(int(years[2]))[1]
    span = re.fullmatch(r"(\S+)\s+to\s+(\S+)", text)
    if span:
        first, last = _one_period(span[1]), _one_period(span[2])
        return (first[0], last[1]) if first and last else None
    return _one_period(text)


def parse_record(value: str) -> tuple[float, float] | None:
    """``3000`` -> (3000, 3000); ``2200-4000`` -> (2200, 4000); text -> None."""
    m = re.fullmatch(rf"({NUMBER})(?:-({NUMBER}))?", value.strip())
    if not m:
        return None
    lo = float(m[1])
    return lo, float(m[2]) if m[2] else lo


def band(values: pd.Series, fmt: Fmt) -> str:
    """``median [5%, 95%]`` over replications."""
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    if len(v) == 0:
        return "n/a"
    q5, q50, q95 = np.quantile(v, [0.05, 0.5, 0.95])
    return f"{fmt(q50)} [{fmt(q5)}, {fmt(q95)}]"


def verdict(values: pd.Series, record: tuple[float, float] | None) -> str:
    """Where the record lies relative to the model's 5-95% band."""
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    if record is None or len(v) == 0:
        return ""
    q5, q95 = np.quantile(v, [0.05, 0.95])
    lo, hi = record
    if hi < q5:
        return "record below the model band"
    if lo > q95:
        return "record above the model band"
    return "record within the model band" if lo == hi else "record range overlaps the model band"


def relative_change(new: pd.Series, old: pd.Series) -> pd.Series:
    """Per-replication (new - old) / old in percent (NaN where old is 0)."""
    return 100 * (new - old) / old.where(old > 0)


def share_with(values: pd.Series) -> str:
    """Share of replications with at least one event."""
    return f"P = {(values >= 1).mean():.2f}"


def joined(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def not_comparable(row: dict[str, str], reason: str) -> list[Line]:
    return [Line(row["fact"], row["period"], record_text(row), "not comparable", reason)]


def record_text(row: dict[str, str]) -> str:
    unit = row["unit"]
    short = {"percent": "%", "fighters and family members": "fighters+family"}.get(unit, unit)
    return f"{row['value']}%" if short == "%" else f"{row['value']} {short}"


def input_line(row: dict[str, str], model: str, note: str) -> Line:
    return Line(
        row["fact"], row["period"], record_text(row), model, joined("input, not validation", note)
    )


# Handlers: one per fact name. Each returns the table lines of one facts.csv row.


def strength_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    bounds = period_bounds(row["period"])
    if bounds is None:
        return not_comparable(row, "period not a date")
    start, end = bounds
    record = parse_record(row["value"])
    family = "family" in row["unit"]
    extra = "record counts fighters and family members; the model counts fighters" if family else ""
    if start > ctx.end:
        values = ctx.at_week("strength", ctx.last_week)
        home = ctx.at_week(f"strength__{ctx.cfg.threat.home_country}", ctx.last_week)
        months = (start.year - ctx.end.year) * 12 + start.month - ctx.end.month
        where = (
            f"after the window (ends {ctx.end.date()}): total strength in the last recorded "
            f"week ({ctx.last_week.date()}), {months} months before the period"
        )
    else:
        values = ctx.mean("strength", start, end)
        home = ctx.mean(f"strength__{ctx.cfg.threat.home_country}", start, end)
        n = int(ctx.weeks(start, end).sum() / ctx.summary.shape[0])
        where = f"mean weekly total strength over the period ({n} weeks)"
    based = f"of which based in {ctx.cfg.threat.home_country}: median {home.median():,.0f}"
    return [
        Line(
            row["fact"],
            row["period"],
            record_text(row),
            band(values, fmt_count),
            joined(where, based, extra, verdict(values, record)),
        )
    ]


def decline_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    home = ctx.cfg.threat.home_country
    values = 100 * ctx.summary[f"attack_change__{home}"]
    record = -float(row["value"])
    return [
        Line(
            row["fact"],
            row["period"],
            f"{record:+.0f}%",
            band(values, fmt_pct),
            joined(
                f"attack_change__{home}: successful attacks, last vs first 26 weeks of the "
                "run (Jul-Dec 2024 vs Jan-Jun 2022)",
                row["note"],
                verdict(values, (record, record)),
            ),
        )
    ]


def incidents_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    bounds = period_bounds(row["period"])
    if bounds is None or not ctx.covers(*bounds):
        return not_comparable(row, "period outside the window")
    home = ctx.cfg.threat.home_country
    attacks = ctx.total(f"attacks_successful__{home}", *bounds)
    out = [
        Line(
            row["fact"],
            row["period"],
            f"{record_text(row)} (all groups)",
            band(attacks, fmt_count),
            joined(
                f"model: IS-K successful attacks in {home}; the record counts all groups, "
                "an upper bound",
                verdict(attacks, parse_record(row["value"])),
            ),
        )
    ]
    deaths = re.search(r"IS-K caused (\d+)", row["note"])
    if deaths:
        values = ctx.total(f"fatalities__{home}", *bounds)
        record = float(deaths[1])
        out.append(
            Line(
                "  IS-K deaths (from note)",
                row["period"],
                f"{deaths[1]} killed",
                band(values, fmt_count),
                joined(
                    f"fatalities__{home}",
                    f"{row['source']}: {row['note']}",
                    verdict(values, (record, record)),
                ),
            )
        )
    return out


def deaths_change_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    years = re.fullmatch(r"(\d{4}) vs (\d{4})", row["period"].strip())
    if years is None:
        return not_comparable(row, "period not 'YEAR vs YEAR'")
    new, old = int(years[1]), int(years[2])
    if not (ctx.covers(*calendar_year(new)) and ctx.covers(*calendar_year(old))):
        return not_comparable(row, "years outside the window")
    home = ctx.cfg.threat.home_country
    record = float(row["value"])
    deaths = relative_change(
        ctx.year(f"fatalities__{home}", new), ctx.year(f"fatalities__{home}", old)
    )
    out = [
        Line(
            row["fact"],
            row["period"],
            f"{record:+.0f}%",
            band(deaths, fmt_pct),
            joined(
                f"fatalities__{home}, calendar years; record: all groups",
                verdict(deaths, (record, record)),
            ),
        )
    ]
    incidents = re.search(rf"incidents ({NUMBER})%", row["note"])
    if incidents:
        col = f"attacks_successful__{home}"
        values = relative_change(ctx.year(col, new), ctx.year(col, old))
        rec = float(incidents[1])
        out.append(
            Line(
                "  incidents change (note)",
                row["period"],
                f"{rec:+.0f}%",
                band(values, fmt_pct),
                joined(f"{col}; record: all groups", verdict(values, (rec, rec))),
            )
        )
    return out


def attacks_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    """Successful attacks in a window, in the home country or (several places) everywhere."""
    bounds = period_bounds(row["period"])
    if bounds is None or not ctx.covers(*bounds):
        return not_comparable(row, f"period outside the window ({ctx.window})")
    home = ctx.cfg.threat.home_country
    everywhere = row["place"].strip().lower() != home
    col = "attacks_successful" if everywhere else f"attacks_successful__{home}"
    what = "all modelled countries" if everywhere else home
    claimed = "claimed attacks undercount attacks" if "claimed" in row["fact"] else ""
    values = ctx.total(col, *bounds)
    out = [
        Line(
            row["fact"],
            row["period"],
            record_text(row),
            band(values, fmt_count),
            joined(
                f"successful attacks, {what} ({col})",
                claimed,
                verdict(values, parse_record(row["value"])),
            ),
        )
    ]
    same = re.search(r"(\d+) in same window of (\d{4})", row["note"])
    if same:
        shift = pd.DateOffset(years=int(same[2]) - bounds[0].year)
        earlier = (bounds[0] + shift, bounds[1] + shift)
        values = ctx.total(col, *earlier)
        rec = float(same[1])
        period = f"{earlier[0].date()} to {earlier[1].date()}"
        out.append(
            Line(
                f"  {row['fact']} (note)",
                period,
                f"{same[1]} attacks",
                band(values, fmt_count),
                joined(f"same window of {same[2]}", verdict(values, (rec, rec))),
            )
        )
    change = re.search(rf"({NUMBER})% vs (\d{{4}})", row["note"])
    if change and bounds[0].year == bounds[1].year:
        year, before = bounds[0].year, int(change[2])
        if ctx.covers(*calendar_year(before)):
            values = relative_change(ctx.year(col, year), ctx.year(col, before))
            rec = float(change[1])
            out.append(
                Line(
                    "  claimed attacks change",
                    f"{year} vs {before}",
                    f"{rec:+.0f}%",
                    band(values, fmt_pct),
                    joined(f"{col}, calendar years", verdict(values, (rec, rec))),
                )
            )
    if "abroad than at home" in row["note"] and everywhere:
        home_n = ctx.total(f"attacks_successful__{home}", *bounds)
        total = ctx.total("attacks_successful", *bounds)
        abroad = (total - home_n) / total.where(total > 0)
        out.append(
            Line(
                "  attacks abroad (note)",
                row["period"],
                "more abroad than home",
                band(abroad, fmt_share),
                joined(
                    f"share of successful attacks outside {home} (every successful attack kills); "
                    f"share > 0.5 in {(abroad > 0.5).mean():.0%} of replications",
                    "GTI 2025",
                ),
            )
        )
        s = ctx.summary
        if {"share_abroad_first_year", "share_abroad_last_year"} <= set(s.columns):
            first, last = s["share_abroad_first_year"], s["share_abroad_last_year"]
            out.append(
                Line(
                    "  attacks shift outward",
                    "last vs first year",
                    "shift abroad",
                    band(100 * (last - first), lambda x: f"{x:+.0f}"),
                    "percentage points, share_abroad_last_year - share_abroad_first_year; "
                    f"share abroad: first year median {first.median():.2f}, last year "
                    f"{last.median():.2f}; larger in the last year in {(last > first).mean():.0%} "
                    "of replications",
                )
            )
    return out


def warned_attack_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    """A mass-casualty attack despite a warning (Kerman, Crocus): how often, in the model."""
    country = row["place"].strip().lower().replace(" ", "_")
    col = f"mass_casualty_despite_warning__{country}"
    day = period_bounds(row["period"])
    if col not in ctx.summary or day is None or not ctx.covers(*day):
        return not_comparable(row, "no such country in the model, or outside the window")
    threshold = ctx.cfg.severity.mass_casualty_threshold
    what = (
        f">= 1 attack with >= {threshold} deaths in {country} on a plot about which a "
        "warning was sent (heeded or not)"
    )
    whole = ctx.summary[col]
    year = ctx.year(col, day[0].year)
    return [
        Line(
            row["fact"],
            row["period"],
            record_text(row),
            share_with(year),
            joined(f"share of replications with {what} in {day[0].year}", row["note"]),
        ),
        Line(
            f"  {row['fact']}",
            f"{ctx.start.year}-{ctx.end.year}",
            "(whole window)",
            share_with(whole),
            "same, over the whole window",
        ),
    ]


def mass_attack_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    """A mass-casualty attack (Peshawar): how often one occurs there that year."""
    country = row["place"].strip().lower().replace(" ", "_")
    col = f"mass_casualty_attacks__{country}"
    day = period_bounds(row["period"])
    if col not in ctx.timeseries or day is None or not ctx.covers(*day):
        return not_comparable(row, f"before the window ({ctx.window}) or no such country")
    threshold = ctx.cfg.severity.mass_casualty_threshold
    values = ctx.year(col, day[0].year)
    return [
        Line(
            row["fact"],
            row["period"],
            record_text(row),
            share_with(values),
            f"share of replications with >= 1 attack with >= {threshold} deaths in {country} "
            f"in {day[0].year}",
        )
    ]


def location_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    s = ctx.summary
    home = ctx.cfg.threat.home_country
    cols = [c for c in s.columns if c.startswith("final_strength__")]
    if not cols:
        return not_comparable(row, "no final_strength__<country> columns")
    share = s[f"final_strength__{home}"] / s["final_strength"].where(s["final_strength"] > 0)
    largest = (s[cols].idxmax(axis=1) == f"final_strength__{home}").mean()
    return [
        Line(
            row["fact"],
            row["period"],
            "largest share",
            band(share, fmt_share),
            f"share of final strength ({ctx.last_week.date()}) based in {home}; the largest "
            f"country share in {largest:.0%} of replications",
        )
    ]


def crackdown_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    col = "crackdown__taliban"
    if col not in ctx.timeseries:
        return not_comparable(row, "no Taliban crackdown in the model")
    year = int(row["value"]) if row["value"].isdigit() else ctx.start.year
    _, end = calendar_year(year)
    weeks = ctx.timeseries.loc[ctx.weeks(ctx.start, end), "date"]
    if weeks.empty:
        return not_comparable(row, "before the window")
    level = ctx.at_week(col, weeks.max())
    return [
        input_line(
            row,
            band(level, fmt_share),
            f"crackdown level at the end of {year} (intervention from {ctx.start.date()}); its "
            "effect is checked by attacks_afghanistan_decline",
        )
    ]


def severity_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    s = ctx.summary
    edges = np.array([5, 10, 25, 50, 100])
    cols = [f"attacks_with_fatalities_ge__{e}" for e in edges]
    fit = ""
    if all(c in s for c in cols):
        ccdf = np.array([s[c].sum() for c in cols], dtype=float)
        if (ccdf > 0).all():
            slope = np.polyfit(np.log(edges), np.log(ccdf / ccdf[0]), 1)[0]
            fit = f"pooled CCDF fit over 5-100 deaths: alpha = {1 - slope:.2f}"
    return [input_line(row, f"{ctx.cfg.severity.exponent:g} (severity.exponent)", fit)]


def duration_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    weeks = ctx.cfg.threat.plot_lifetime_external
    col = "plot_age_at_attack_mean__abroad"
    realised = ""
    if col in ctx.summary:
        months = band(ctx.summary[col] / WEEKS_PER_MONTH, lambda x: f"{x:.1f}")
        realised = (
            f"realised mean age at attack of plots abroad {months} months (a selection: "
            "long-lived plots are more often interdicted)"
        )
    return [
        input_line(
            row,
            f"{weeks:g} weeks = {weeks / WEEKS_PER_MONTH:.1f} months",
            joined("threat.plot_lifetime_external", realised, row["note"]),
        )
    ]


HANDLERS: dict[str, Callable[[dict[str, str], Context], list[Line]]] = {
    "isis_k_strength": strength_lines,
    "isis_k_strength_low": strength_lines,
    "attacks_afghanistan_decline": decline_lines,
    "terrorism_incidents": incidents_lines,
    "terrorism_deaths_change": deaths_change_lines,
    "isis_k_attacks": attacks_lines,
    "isis_k_claimed_attacks": attacks_lines,
    "is_claimed_attacks": attacks_lines,
    "attack_kerman": warned_attack_lines,
    "attack_crocus_city_hall": warned_attack_lines,
    "attack_peshawar_mosque": mass_attack_lines,
    "isis_k_location": location_lines,
    "taliban_crackdown": crackdown_lines,
    "severity_power_law_exponent": severity_lines,
    "plot_duration_mean": duration_lines,
}
REASONS = {
    "attack_kabul_airport": "before the window",
    "rocket_launches_central_asia": "the model has no cross-border rocket fire",
}


def fact_lines(row: dict[str, str], ctx: Context) -> list[Line]:
    """The table lines of one facts.csv row."""
    bounds = period_bounds(row["period"])
    if bounds is not None and bounds[1] < ctx.start:
        return not_comparable(row, f"before the window ({ctx.window})")
    handler = HANDLERS.get(row["fact"])
    if handler is None:
        return not_comparable(row, REASONS.get(row["fact"], "no model counterpart"))
    return handler(row, ctx)


def read_facts(path: Path) -> list[dict[str, str]]:
    """The usable rows of facts.csv: those with a fact name and a value."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]
    return [r for r in rows if r.get("fact") and r.get("value")]


def print_facts(result: RunResult, path: Path) -> None:
    cfg, s, ts = result.config, result.summary, result.timeseries
    if "date" not in ts:
        print("facts table: n/a (the timeseries has no date column)")
        return
    start = ts["date"].min()
    last = ts["date"].max()
    ctx = Context(cfg, s, ts, start, last + pd.Timedelta(days=6), last)
    lines = [line for row in read_facts(path) for line in fact_lines(row, ctx)]
    widths = (30, 24, 28, 24)
    header = Line("fact", "period", "record", "model median [5%, 95%]", "note")
    print()
    print(f"The record ({path}) beside {cfg.name}: {len(s)} replications, window {ctx.window}")
    for line in (header, *lines):
        cells = [f"{v:<{w}}" for v, w in zip(astuple(line)[:4], widths, strict=True)]
        print(" | ".join([*cells, line.note]))


if __name__ == "__main__":
    main()
