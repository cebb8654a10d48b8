"""The model as the dashboard drives it: keyword parameters, validated like configs.

Mesa's SolaraViz re-creates the model from keyword arguments on Reset. Each argument
here maps to a config path and goes through the same validation as ``scenarios run
--set``; a bad value is refused and reported in ``input_errors``, and the model falls
back to the scenario's own values so the dashboard keeps working.

Sliders left at their default position keep the selected scenario's value; a slider
moved away from its default overrides it. ``active_parameters()`` shows what is in use.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
from mesa import DataCollector

from scenarios.config import ConfigError, ScenarioConfig, load_config
from scenarios.model import intel
from scenarios.model.model import ScenarioModel

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
CORE = ("us", "russia", "taliban")
PAIRS = [(a, b) for a in CORE for b in CORE if a != b]
DASHBOARD_WEEKS = 5200  # room for a long play session (100 years of weeks)


def _slider_defaults() -> dict[str, tuple[str, float]]:
    """Slider name -> (config path, default position = the baseline scenario's value).

    A slider left at its default keeps the selected scenario's own value.
    """
    base = load_config(CONFIGS / "baseline.yaml")
    sliders: dict[str, tuple[str, float]] = {}
    for a, b in PAIRS:
        sliders[f"policy_{a}_{b}"] = (
            f"sharing.policy.{a}.{b}",
            base.sharing.policy.get(a, {}).get(b, 0.0),
        )
    sliders["compartmentalisation"] = (
        "sharing.compartmentalisation",
        base.sharing.compartmentalisation,
    )
    for a, b in PAIRS:
        sliders[f"trust_{a}_{b}"] = (
            f"trust.initial.{a}.{b}",
            base.trust.initial.get(a, {}).get(b, base.trust.default),
        )
    for a, b in PAIRS:
        sliders[f"exploitation_{a}_{b}"] = (
            f"exploitation.{a}.{b}",
            base.exploitation.get(a, {}).get(b, 0.0),
        )
    return sliders


SLIDERS = _slider_defaults()
ACTOR_NAMES = {"us": "US", "russia": "Russia", "taliban": "Taliban"}


def lever_label(name: str) -> str:
    """A slider's label in words, e.g. 'US trust in Russia (prior, 0–1)'."""
    if name == "compartmentalisation":
        return "Compartmentalisation (share of material sanitised, 0–1)"
    kind, a, b = name.split("_")
    a, b = ACTOR_NAMES[a], ACTOR_NAMES[b]
    return {
        "policy": f"{a} shares with {b} (chance per detection, 0–1)",
        "trust": f"{a} trust in {b} (prior, 0–1)",
        "exploitation": f"{a} misuses {b}'s material (propensity, 0–1)",
    }[kind]


def scenario_files() -> dict[str, Path]:
    """Shipped scenarios, plus the config given to `scenarios viz` (if any)."""
    files = {p.stem: p for p in sorted(CONFIGS.glob("*.yaml"))}
    extra = os.environ.get("SCENARIOS_VIZ_CONFIG")
    if extra:
        path = Path(extra).resolve()
        files.setdefault(path.stem, path)
    return files


def default_scenario() -> str:
    """The scenario the dashboard opens with."""
    extra = os.environ.get("SCENARIOS_VIZ_CONFIG")
    return Path(extra).stem if extra else "baseline"


class DashboardModel(ScenarioModel):
    """ScenarioModel with dashboard controls as keyword arguments and a DataCollector."""

    def __init__(
        self,
        scenario_name: str = "baseline",
        seed: Any = 42,
        override: str = "",
        scenario: object | None = None,
        **sliders: float,
    ) -> None:
        del scenario  # Mesa's own Scenario object, passed on Reset; ours is `scenario_name`
        unknown = set(sliders) - set(SLIDERS)
        if unknown:
            raise TypeError(f"unknown dashboard parameters: {sorted(unknown)}")
        self.input_errors: list[str] = []
        self._kept: list[str] = []
        files = scenario_files()
        path = files.get(scenario_name, files.get("baseline", CONFIGS / "baseline.yaml"))
        overrides = [f"run.steps={DASHBOARD_WEEKS}"]
        for name, value in sliders.items():
            config_path, default = SLIDERS[name]
            if value != default:
                overrides.append(f"{config_path}={value}")
        try:
            root_seed = int(str(seed).strip())
            if root_seed < 0:
                raise ValueError
        except ValueError:
            self.input_errors.append(f"seed = {seed!r}: must be a whole number >= 0; using 42")
            root_seed = 42
        if override.strip():
            overrides.append(override.strip())
        config = self._validated(path, overrides)
        super().__init__(config, np.random.SeedSequence(root_seed))
        self.scenario_name = path.stem
        self.root_seed = root_seed
        self.overrides = self._kept[1:]  # only the overrides in force, never a refused one
        # Spin up off-screen in one compiled call (Mesa's clock stays at 0): the dashboard
        # starts at week 0.
        self._advance(0)
        self._sync_agents()
        self._end_spin_up()  # shown from week 0: relations start from the configured priors
        self.cumulative = {
            "attacks": np.zeros(len(self.geometry.countries)),
            "fatalities": np.zeros(len(self.geometry.countries)),
            "interdicted": 0.0,
            "exploitation": 0.0,
        }
        reporters = {
            f"attacks: {c}": self._reporter("attacks", j)
            for j, c in enumerate(self.geometry.countries)
        }
        reporters |= {
            f"fatalities: {c}": self._reporter("fatalities", j)
            for j, c in enumerate(self.geometry.countries)
        }
        reporters |= {
            "plots interdicted": lambda m: m.cumulative["interdicted"],
            "exploitation events": lambda m: m.cumulative["exploitation"],
            "ISIS-K strength": lambda m: m.strength,
        }
        self.datacollector = DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    @staticmethod
    def _reporter(kind: str, index: int) -> Any:
        return lambda m: float(m.cumulative[kind][index])

    def _validated(self, path: Path, overrides: list[str]) -> ScenarioConfig:
        """The config with overrides; on bad input, without them and with a message."""
        try:
            config = load_config(path, overrides)
            self._kept = list(overrides)
            return config
        except ConfigError as exc:
            self.input_errors.append(f"refused: {exc}")
        kept = [overrides[0]]
        try:
            for text in overrides[1:]:  # keep the good overrides, drop the bad one(s)
                try:
                    load_config(path, [*kept, text])
                    kept.append(text)
                except ConfigError:
                    continue
            config = load_config(path, kept)
        except ConfigError:
            kept = overrides[:1]
            config = load_config(path, kept)
        self._kept = kept
        return config

    def step(self) -> None:
        """One week, then update the dashboard's running totals and collect."""
        super().step()
        week = self.week - 1
        rec = self.recorder
        self.cumulative["attacks"] += rec.country["attacks_successful"][week]
        self.cumulative["fatalities"] += rec.country["fatalities"][week]
        self.cumulative["interdicted"] += rec.scalar["plots_interdicted"][week]
        self.cumulative["exploitation"] += rec.actor["exploitation_against"][week].sum()
        self.datacollector.collect(self)
        if self.week >= self.config.run.steps:
            self.running = False

    @property
    def shown_week(self) -> int:
        """The week on screen: 0 until the first step."""
        return max(self.week, 0)

    def week_label(self) -> str:
        """'Week 20 (2025-05-26)': the week and its date, from the scenario's start."""
        start = getattr(self.config.run, "start", None)
        if not isinstance(start, dt.date):
            return f"Week {self.shown_week}"
        return f"Week {self.shown_week} ({start + dt.timedelta(weeks=self.shown_week)})"

    def region_attack_risk(self) -> np.ndarray:
        """Per region: expected successful attacks from the plots now live against it.

        Each live plot races its remaining weeks to maturation against this week's
        interdiction hazard (the best-placed informed actor, else uninformed host
        security), held constant; success then depends on the target's hardening.
        """
        p = self.p
        plots = self.plots
        n = plots.n
        if n == 0:
            return np.zeros(len(self.geometry.ids))
        origin, target = plots.origin[:n], plots.target[:n]
        reach = np.maximum(self.world.reach[:, origin], self.world.reach[:, target]).T
        known = (self.p.config.interdiction.hazard * reach * plots.knowledge[:n]).max(axis=1)
        h = 1 - (1 - known) * (1 - p.host_security[target])
        weeks_left = np.maximum(plots.matures_at[:n] - self.week, 0)
        success = (1 - intel.interdiction_probability(h, weeks_left)) * (1 - p.hardening[target])
        return np.bincount(target, weights=success, minlength=len(self.geometry.ids))

    def active_parameters(self) -> dict[str, float]:
        """The values in use for every dashboard lever (scenario value or slider)."""
        cfg = self.config
        out: dict[str, float] = {}
        for a, b in PAIRS:
            out[f"sharing {a}->{b}"] = cfg.sharing.policy.get(a, {}).get(b, 0.0)
        out["compartmentalisation"] = cfg.sharing.compartmentalisation
        for a, b in PAIRS:
            out[f"trust {a} in {b}"] = cfg.trust.initial.get(a, {}).get(b, cfg.trust.default)
        for a, b in PAIRS:
            out[f"exploitation {a} of {b}"] = cfg.exploitation.get(a, {}).get(b, 0.0)
        return out
