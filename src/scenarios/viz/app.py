"""The dashboard page: `solara run src/scenarios/viz/app.py` or `scenarios viz [CONFIG]`.

Built from Mesa's SolaraViz parts: Mesa's step / play / pause / reset controller with
our own page around it: the week and its date, refused inputs next to the controls,
levers labelled in words with their values, then the region map, the trust heatmap and
the time series. Each browser session builds its own model (``Page`` below), so a new
tab starts at week 0 and never drives another tab's model.
"""

from __future__ import annotations

from typing import Any

import solara
from mesa.visualization.solara_viz import ModelController

from scenarios.viz.components import (
    SERIES,
    InputErrors,
    InputStatus,
    RegionMap,
    TimeSeries,
    TrustHeatmap,
    WeekStatus,
)
from scenarios.viz.dashboard_model import (
    SLIDERS,
    DashboardModel,
    default_scenario,
    lever_label,
    scenario_files,
)

TITLE = "Intelligence sharing against ISIS-K: scenario dashboard"
PLAY_INTERVAL_MS = 150


def model_params() -> dict[str, dict[str, Any]]:
    """The controls: scenario, seed, a free override, then one slider per lever."""
    params: dict[str, dict[str, Any]] = {
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
    for name, (_, default) in SLIDERS.items():
        params[name] = {
            "type": "SliderFloat",
            "value": default,
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": lever_label(name),
        }
    return params


@solara.component
def Controls(params: dict[str, dict[str, Any]], values: solara.Reactive[dict]) -> None:
    """Inputs bound to ``values``; each slider shows its label in words and its value."""
    for name, spec in params.items():
        current = values.value.get(name, spec["value"])

        def set_value(value: Any, name: str = name) -> None:
            values.set({**values.value, name: value})

        if spec["type"] == "Select":
            solara.Select(spec["label"], values=spec["values"], value=current, on_value=set_value)
        elif spec["type"] == "InputText":
            solara.InputText(spec["label"], value=current, on_value=set_value)
        else:
            with solara.Column(gap="0px", classes=["lever"]):
                with solara.Row(justify="space-between", style={"align-items": "baseline"}):
                    solara.Text(spec["label"], classes=["lever-label"])
                    solara.Text(f"{current:.2f}", classes=["lever-value"])
                solara.SliderFloat(
                    "",
                    value=current,
                    min=spec["min"],
                    max=spec["max"],
                    step=spec["step"],
                    on_value=set_value,
                    thumb_label=False,
                )


@solara.component
def Page() -> None:
    """One session's dashboard: its own model, controls in the sidebar, panels in the main."""
    params = solara.use_memo(model_params, [])
    first = solara.use_memo(lambda: DashboardModel(scenario_name=default_scenario()), [])
    model = solara.use_reactive(first)
    values = solara.use_reactive({name: spec["value"] for name, spec in params.items()})
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run", classes=["run-card"]):
            WeekStatus(model.value)
            ModelController(
                model,
                model_parameters=values,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            InputErrors(model.value)
        with solara.Card("Levers (apply with Reset)"):
            Controls(params, values)
    with solara.ColumnsResponsive(default=12, large=6):
        with solara.Card(classes=["panel"]):
            RegionMap(model.value)
        with solara.Card(classes=["panel"]):
            TrustHeatmap(model.value)
        for series in SERIES:
            with solara.Card(classes=["panel"]):
                TimeSeries(model.value, series)
        with solara.Card("In force", classes=["panel"]):
            InputStatus(model.value)


page = Page
