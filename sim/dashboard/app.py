"""The dashboard page: Mesa's SolaraViz controls (play, step, reset, the settings) and the live views.

SolaraViz draws the sidebar: its play, step and reset buttons and one input per setting
(:func:`sim.dashboard.controls.model_params`); *Reset* rebuilds the :class:`DashboardModel` from the
settings. The main area has two tabs: *One negotiation* (the concession paths, the utility plane, the
reservation values and, when the two-level layer is on, the ratification approval, redrawn after every
round) and *Batch of N seeds* (N negotiations of the current settings in one batched model).

Serve it with ``python -m sim dashboard`` (or ``solara run sim.dashboard.app``).
"""

from __future__ import annotations

import io
import logging

import solara
import solara.lab
from mesa.visualization import SolaraViz, solara_viz
from mesa.visualization.utils import update_counter

from sim.dashboard import views
from sim.dashboard.controls import model_params
from sim.dashboard.session import DashboardModel, readable

__all__ = ["Page"]

log = logging.getLogger(__name__)

TITLE = "sim: a negotiation, round by round"


def _png(figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


@solara.component
def FigureView(make, model: DashboardModel, rounds: int, classes: list[str] | None = None, width: str | None = None):
    """A view's figure as a PNG, redrawn when the model or its round (``rounds``) changes."""
    png = solara.use_memo(lambda: _png(make(model.talks)), [id(model), rounds])
    solara.Image(png, format="png", classes=classes or [], width=width)


@solara.component
def LiveViews(model: DashboardModel, rounds: int):
    """The views of one negotiation, as it stands after ``rounds`` rounds (a prop, so each round redraws)."""
    update_counter.get()
    talks = model.talks
    solara.Text(views.settings_line(talks), classes=["sim-settings"])
    numbers = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in model.settings.items()
                        if k in ("extension_probability", "escalation", "breakdown_risk", "seed")
                        or (k.endswith("_threshold") and v))
    solara.Text(f"Settings in force: {numbers}", style={"font-size": "0.85em"})
    with solara.Column(classes=["sim-concession"]):
        solara.Text(views.concession_caption(talks), classes=["sim-concession-caption"],
                    style={"font-weight": "bold"})
        FigureView(views.concession_figure, model, rounds, classes=["sim-concession-figure"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        FigureView(views.utility_plane_figure, model, rounds, width="440px", classes=["sim-utility-plane"])
        FigureView(views.reservation_figure, model, rounds, width="440px", classes=["sim-reservation"])
        if views.ratification_on(talks):
            FigureView(views.approval_figure, model, rounds, width="440px", classes=["sim-approval"])
        else:
            solara.Info("Ratification: the two-level layer is off (no ratification threshold above 0). "
                        "Set a ratification threshold in the settings and press Reset to switch it on.")


@solara.component
def BatchView(model: DashboardModel):
    """N seeds of the current settings, run to the end on request."""
    n, set_n = solara.use_state(1_000)
    result, set_result = solara.use_state(None)

    def run() -> None:
        try:
            set_result(views.run_batch(model.settings, n))
        except Exception as err:  # noqa: BLE001 - shown in the page; the server keeps serving
            log.warning("dashboard: batch failed: %s", err)
            set_result(readable(err))

    # plain text, not solara.Markdown: its math support fetches KaTeX from a CDN, and the page fetches nothing
    solara.Text("Runs N negotiations of the settings of the current model (seed indices 0..N−1 of its root seed, "
                "as python -m sim run numbers them). Change the settings and press Reset first.")
    with solara.Row():
        solara.SliderInt("negotiations (N)", value=n, on_value=set_n, min=views.BATCH_SIZES[0], max=views.BATCH_SIZES[1],
                         step=10)
        solara.Button(f"Run {n:,} seeds", color="primary", on_click=run, classes=["sim-batch-run"])
    if isinstance(result, str):
        solara.Error(f"These settings cannot run: {result}", classes=["sim-error"])
    elif result is not None:
        solara.Text(result.summary(), classes=["sim-batch-summary"], style={"font-weight": "bold"})
        png = solara.use_memo(lambda: _png(views.batch_figure(result)), [id(result)])
        solara.Image(png, format="png", classes=["sim-batch-figure"])


@solara.component
def Views(model: solara.Reactive[DashboardModel]):
    """The main area: a message for refused settings, else the two tabs."""
    update_counter.get()  # redrawn after every step, as SolaraViz's own components
    current = model.value
    if current.error:
        solara.Error(f"These settings cannot run: {current.error}. Change them and press Reset.",
                     classes=["sim-error"])
    with solara.lab.Tabs():
        with solara.lab.Tab("One negotiation"):
            if current.talks is not None:
                LiveViews(current, current.steps)
        with solara.lab.Tab("Batch of N seeds"):
            BatchView(current)


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@solara.component
def ValueSlider(kind: str, label: str, value, lo, hi, step, on_value):
    """A slider under a line that names the setting and its current value (``deadline (round): 13``)."""
    current, set_current = solara.use_state(value)

    def change(new) -> None:
        set_current(new)
        on_value(new)

    slider = solara.SliderInt if kind == "SliderInt" else solara.SliderFloat
    with solara.Column(gap="0px", classes=["sim-slider"]):
        solara.Text(f"{label}: {_shown(current)}", style={"font-size": "0.9em"})
        slider("", value=current, on_value=change, min=lo, max=hi, step=step, thumb_label=False)


@solara.component
def SettingInputs(user_params, on_change=None):
    """The sidebar's settings, as Mesa's ``UserInputs`` draws them, but with each slider's value on show.

    Mesa's own inputs draw a slider without its value (its thumb label appears only while dragged) and
    squeeze the track beside a long label, so a setting could not be read off the page.
    """
    for name, options in user_params.items():
        def change(value, name=name):
            on_change(name, value)

        kind, label, value = options["type"], options.get("label", name), options.get("value")
        if kind in ("SliderInt", "SliderFloat"):
            ValueSlider(kind, label, value, options["min"], options["max"], options["step"], change)
        elif kind == "Select":
            solara.Select(label, value=value, values=options["values"], on_value=change)
        elif kind == "InputText":
            solara.InputText(label, value=value, on_value=change)
        else:
            raise ValueError(f"{kind} is not a control type of the dashboard")


solara_viz.UserInputs = SettingInputs  # SolaraViz's model-parameter card draws through this name


@solara.component
def Page():
    """The dashboard: SolaraViz's controls in the sidebar, the views in the main area."""
    solara.Title(TITLE)
    initial = solara.use_memo(DashboardModel, [])
    model = solara.use_reactive(initial)
    params = solara.use_memo(model_params, [])
    SolaraViz(model, components=[], model_params=params, name=TITLE)
    Views(model)
