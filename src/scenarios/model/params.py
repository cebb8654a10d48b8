"""A validated config compiled into arrays the weekly step reads.

Compiled once per config and again whenever an intervention starts or ends, never per
step. Actor matrices are ``[A, A]``, per-region arrays ``[R]``, coverage and reach
``[A, R]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scenarios.config import ScenarioConfig
from scenarios.model.regions import RegionGeometry

Array = NDArray[np.float64]


def _matrix(ids: list[str], nested: dict[str, dict[str, float]], default: float = 0.0) -> Array:
    m = np.full((len(ids), len(ids)), default, dtype=np.float64)
    for a, row in nested.items():
        for b, value in row.items():
            m[ids.index(a), ids.index(b)] = value
    np.fill_diagonal(m, 0.0)
    return m


@dataclass(frozen=True)
class Parameters:
    """Everything the weekly step needs, as numpy arrays and scalars."""

    config: ScenarioConfig
    recruitment_pool: Array  # [R] in [0, 1]
    hardening: Array  # [R]
    host_security: Array  # [R] weekly hazard of an uninformed interdiction
    host_pressure: Array  # [R] standing host-state pressure on cells [0, 1]
    home_weight: Array  # [R] home_affinity in the home country, else 1
    target_base: Array  # [R origin, R target] unnormalised targeting weight
    coverage: Array  # [A, R] weekly detection hazard
    reach: Array  # [A, R] interdiction capacity
    receptivity: Array  # [A]
    counter_intelligence: Array  # [A]
    duty_to_warn: NDArray[np.bool_]  # [A]
    crackdown_intensity: Array  # [A]
    crackdown_buildup: Array  # [A]
    crackdown_coverage_boost: Array  # [A] relative coverage gain at home at crackdown 1
    region_crackdown_attrition: Array  # [R] extra weekly attrition at crackdown 1
    share_policy: Array  # [A from, A to]
    exploit_ab: Array  # [A sender, A receiver] per-item misuse probability
    leak: Array  # [A receiver] per-item leak probability after compartmentalisation
    trust_prior: Array  # [A truster, A trustee]
    shared_value: float  # value of shared material relative to own detection


def compile_parameters(config: ScenarioConfig, geometry: RegionGeometry) -> Parameters:
    """Turn a config into arrays; shapes follow ``geometry`` and the config's actor order."""
    from scenarios.model import intel

    actors = list(config.actors)
    regions = list(geometry.ids)
    specs = list(config.actors.values())
    rspecs = list(config.regions.values())

    def per_region(mapping: dict[str, float]) -> Array:
        return np.array([mapping.get(r, 0.0) for r in regions], dtype=np.float64)

    pool = np.array([(r.grievance + r.economic_stress + r.minority_exposure) / 3.0 for r in rspecs])
    attractiveness = np.array([r.attractiveness for r in rspecs])
    hardening = np.array([r.hardening for r in rspecs])
    preference = np.array(
        [config.threat.target_preference.get(c, 0.0) for c in geometry.countries]
    )[geometry.country_of]
    target_weight = preference * attractiveness * (1.0 - hardening)
    target_base = target_weight[None, :] * np.power(config.threat.distance_decay, geometry.hops)
    c = config.sharing.compartmentalisation
    stance = np.zeros((len(actors), len(actors)))
    for i, spec in enumerate(specs):
        for other, value in spec.stance.items():
            stance[i, actors.index(other)] = value
    return Parameters(
        config=config,
        recruitment_pool=pool,
        hardening=hardening,
        host_security=np.array([r.host_security for r in rspecs]),
        host_pressure=np.array([r.host_pressure for r in rspecs]),
        home_weight=np.where(
            np.array([r.country == config.threat.home_country for r in rspecs]),
            config.threat.home_affinity,
            1.0,
        ),
        target_base=target_base,
        coverage=np.array([per_region(s.coverage) for s in specs]),
        reach=np.array([per_region(s.reach) for s in specs]),
        receptivity=np.array([s.warning_receptivity for s in specs]),
        counter_intelligence=np.array([s.counter_intelligence for s in specs]),
        duty_to_warn=np.array([s.duty_to_warn and config.sharing.duty_to_warn for s in specs]),
        crackdown_intensity=np.array([s.crackdown.intensity for s in specs]),
        crackdown_buildup=np.array([s.crackdown.buildup for s in specs]),
        crackdown_coverage_boost=np.array([s.crackdown.coverage_boost for s in specs]),
        region_crackdown_attrition=np.array([s.crackdown.attrition for s in specs])[
            geometry.jurisdiction_or_0
        ]
        * geometry.has_jurisdiction,
        share_policy=_matrix(actors, config.sharing.policy),
        exploit_ab=intel.exploitation_probability(
            _matrix(actors, config.exploitation),
            stance,
            c,
            config.counterintelligence.rivalry_gain,
        ),
        leak=np.array([config.counterintelligence.leakage.get(a, 0.0) for a in actors]) * (1 - c),
        trust_prior=_matrix(actors, config.trust.initial, default=config.trust.default),
        shared_value=intel.shared_value(c, config.sharing.sanitisation_loss),
    )
