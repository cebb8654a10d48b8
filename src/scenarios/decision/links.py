"""The value of each sharing link: every coalition of links, run with common random numbers.

A *link* is one directed sharing policy (``us>russia``: ``sharing.policy.us.russia``), or
with ``pairs`` both directions between two actors (``us-russia``). A coalition switches
its links on at ``level`` and the others of the game off (0); links outside the game keep
the scenario's values. The 2^k coalitions are the sample points of a sweep
(:class:`LinksSpec`), so they run streamed, resumable and on Dask like any sweep, every
coalition with the same replication seeds; :func:`link_values` then gives each link's
Shapley value for each outcome (:mod:`scenarios.decision.shapley`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from scenarios.config import ConfigError
from scenarios.decision.points import PointsSpec
from scenarios.decision.shapley import bootstrap_intervals
from scenarios.experiment.sweep import SweepParameter

ACTORS = ("us", "russia", "taliban")  # the trilateral question's partners
PARTNER_COUNTRIES = {"us": "west", "russia": "russia", "taliban": "afghanistan"}


@dataclass(frozen=True)
class Link:
    """One link of the game: a name and the sharing-policy paths it switches together."""

    name: str
    paths: tuple[str, ...]


def policy_path(giver: str, receiver: str) -> str:
    """The config path of the share of what ``giver`` learns that it passes to ``receiver``."""
    return f"sharing.policy.{giver}.{receiver}"


def default_links(pairs: bool = False) -> list[Link]:
    """The six directed links among the US, Russia and the Taliban (or their three pairs)."""
    if pairs:
        return [
            Link(f"{a}-{b}", (policy_path(a, b), policy_path(b, a)))
            for i, a in enumerate(ACTORS)
            for b in ACTORS[i + 1 :]
        ]
    return [Link(f"{a}>{b}", (policy_path(a, b),)) for a in ACTORS for b in ACTORS if a != b]


def parse_links(text: str | None, actors: list[str], pairs: bool = False) -> list[Link]:
    """Links from ``us>russia,taliban>us`` (``us-russia`` with ``pairs``); default: all six.

    ConfigError (exit 2) for an unknown actor, a link to itself, a repeated link, or the
    wrong separator.
    """
    if not text:
        return default_links(pairs)
    sep = "-" if pairs else ">"
    links: list[Link] = []
    for item in (part.strip() for part in text.split(",")):
        ends = item.split(sep)
        if len(ends) != 2 or not all(ends):
            raise ConfigError(
                f"--links: {item!r} is not a link; write GIVER{sep}RECEIVER"
                + (" (with --pairs: A-B)" if pairs else " (e.g. us>russia)")
            )
        a, b = ends
        for actor in (a, b):
            if actor not in actors:
                raise ConfigError(
                    f"--links: {actor!r} is not an actor of the scenario ({', '.join(actors)})"
                )
        if a == b:
            raise ConfigError(f"--links: {item!r} links an actor to itself")
        paths = (policy_path(a, b), policy_path(b, a)) if pairs else (policy_path(a, b),)
        if any(set(paths) & set(link.paths) for link in links):
            raise ConfigError(f"--links: {item!r} is given twice")
        links.append(Link(item, paths))
    if len(links) > 10:
        raise ConfigError(f"--links: {len(links)} links make 2^{len(links)} coalitions; at most 10")
    return links


class LinksSpec(PointsSpec):
    """The 2^k coalitions of k links: point ``mask`` switches on link i when bit i is set."""

    links: list[str] = Field(description="Link names, in coalition bit order.")
    link_paths: list[list[str]] = Field(description="Each link's policy paths.")
    level: float = Field(gt=0, le=1, description="Sharing level of a link that is on.")


def coalition_design(links: list[Link], paths: list[str], level: float) -> np.ndarray:
    """One row per coalition (mask 0 .. 2^k - 1), one column per policy path."""
    rows = np.zeros((2 ** len(links), len(paths)))
    for mask in range(rows.shape[0]):
        for i, link in enumerate(links):
            if mask >> i & 1:
                for path in link.paths:
                    rows[mask, paths.index(path)] = level
    return rows


def links_spec(
    name: str,
    base: str,
    links: list[Link],
    *,
    level: float,
    replications: int,
    seed: int,
    outcomes: list[str],
) -> LinksSpec:
    """The sweep of every coalition of ``links`` at ``level``."""
    paths = [path for link in links for path in link.paths]
    return LinksSpec(
        points=coalition_design(links, paths, level).tolist(),
        name=name,
        description=f"Shapley values of {len(links)} sharing links at level {level:g}",
        base=base,
        method="grid",
        samples=2,
        replications=replications,
        seed=seed,
        parameters={p: SweepParameter(bounds=(0.0, level)) for p in paths},
        outcomes=outcomes,
        links=[link.name for link in links],
        link_paths=[list(link.paths) for link in links],
        level=level,
    )


def default_outcomes(actors: list[str], columns: list[str]) -> list[str]:
    """Attacks and attack risk in each partner's country and in total; exposure per actor."""
    wanted = ["attacks_successful"]
    for actor in actors:
        country = PARTNER_COUNTRIES.get(actor)
        if country:
            wanted += [f"attacks_successful__{country}", f"attack_risk__{country}"]
    wanted += [f"ci_exposure__{actor}" for actor in actors]
    return [c for c in wanted if c in columns]


def coalition_values(results: pd.DataFrame, outcome: str, n_points: int) -> np.ndarray:
    """``values[mask, r]``: the outcome of replication r in coalition ``mask`` (point)."""
    table = results.pivot(index="point", columns="replication", values=outcome)
    table = table.reindex(range(n_points))
    if table.isna().to_numpy().any():
        missing = int(table.isna().to_numpy().sum())
        raise ValueError(f"{outcome}: {missing} coalition runs have no value")
    return table.to_numpy(dtype=float)


def link_values(results: pd.DataFrame, spec: LinksSpec, resamples: int = 2000) -> pd.DataFrame:
    """links.csv: link, outcome, shapley, ci_low, ci_high, n, full_effect.

    ``full_effect`` is the outcome's change from no link to every link (the sum of the
    links' Shapley values, by efficiency); intervals are 95% paired bootstrap percentiles.
    """
    rows: list[dict[str, Any]] = []
    for outcome in spec.outcomes:
        values = coalition_values(results, outcome, spec.n_points())
        phi, low, high = bootstrap_intervals(values, resamples=resamples, seed=spec.seed)
        full = float(values[-1].mean() - values[0].mean())
        for i, link in enumerate(spec.links):
            rows.append(
                {
                    "link": link,
                    "outcome": outcome,
                    "shapley": float(phi[i]),
                    "ci_low": float(low[i]),
                    "ci_high": float(high[i]),
                    "n": values.shape[1],
                    "full_effect": full,
                }
            )
    return pd.DataFrame(rows)
