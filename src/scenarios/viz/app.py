"""The dashboard page: `solara run src/scenarios/viz/app.py` or `scenarios viz [CONFIG]`.

Built on Mesa's SolaraViz: Mesa's own step / play / pause / reset controls, the
parameter controls below (validated like `scenarios run --set`), the region map, the
trust heatmap and time series of outcomes.
"""

from __future__ import annotations

from mesa.visualization import SolaraViz, make_plot_component

from scenarios.viz.components import InputStatus, RegionMap, TrustHeatmap
from scenarios.viz.dashboard_model import SLIDERS, DashboardModel, default_scenario, scenario_files


def model_params() -> dict:
    """SolaraViz controls: scenario, seed, a free override, then one slider per lever."""
    params: dict = {
        "scenario_name": {
            "type": "Select",
            "value": default_scenario(),
            "values": list(scenario_files()),
            "label": "Scenario",
        },
        "seed": {"type": "InputText", "value": "42", "label": "Seed (whole number >= 0)"},
        "override": {
            "type": "InputText",
            "value": "",
            "label": "Override KEY=VALUE (e.g. trust.forgetting=0.9)",
        },
    }
    for name, (path, default) in SLIDERS.items():
        params[name] = {
            "type": "SliderFloat",
            "value": default,
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": path,
        }
    return params


model = DashboardModel(scenario_name=default_scenario())
COUNTRIES = list(model.geometry.countries)
page = SolaraViz(
    model,
    components=[
        (RegionMap, 0),
        (TrustHeatmap, 0),
        make_plot_component([f"attacks: {c}" for c in COUNTRIES]),
        make_plot_component([f"fatalities: {c}" for c in COUNTRIES]),
        make_plot_component(["plots interdicted", "exploitation events"]),
        make_plot_component("ISIS-K strength"),
        (InputStatus, 0),
    ],
    model_params=model_params(),
    name="scenarios: intelligence sharing against ISIS-K",
    play_interval=150,
)
