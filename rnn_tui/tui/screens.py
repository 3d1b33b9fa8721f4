"""Modal screens: help, save the configuration as a preset, load a preset."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import Regex
from textual.widgets import Button, Input, Label, Markdown, OptionList
from textual.widgets.option_list import Option

HELP = """\
# rnn-tui

Pick a system, an architecture and hyperparameters on the left, press **s**, and watch the model
learn: the loss, the gradient norm, and the model's **free-running** forecast (its own predictions
fed back as inputs) against the **true** trajectory, from where prediction starts (the vertical mark).

| key | does |
|---|---|
| `s` | start training with the configuration on the left |
| `p` | pause / resume |
| `x` | stop (the run ends as *cancelled*; it can still be exported) |
| `r` | reset: stop, clear the plots and go back to idle |
| `e` | export the last run to a new folder under `runs/` (the same files as headless mode) |
| `c` | next component in the forecast plot |
| `o` | show / hide the one-step predictions in the forecast plot |
| `m` | maximise the focused plot (`tab` moves focus, `escape` restores) |
| `f` | show / hide the settings (below 110 columns they fold away and `f` shows them instead of the plots) |
| `R` | the Runs screen: the leaderboard of kept runs; `space` selects runs to overlay, `o` or a header sorts, `c` next component, `l` loads a run's configuration, `escape` closes |
| `i` | the Inside screen: hidden state, gates, recurrent spectrum, gradient by lag, readout; probed once per epoch while shown (`]` next matrix, `escape` closes) |
| `C` | the climate screen: the last run's long run (attractor, spectra, histograms, its own Lyapunov exponents); `g` runs it, `x` stops, `escape` closes |
| `a` | loss plot: moving average on / off (raw curves kept, fainter) |
| `y` | loss plot: log / linear scale |
| `P` | save an SVG screenshot into the runs folder |
| `ctrl+s` | save the configuration as a preset |
| `ctrl+o` | load a preset (also in the command palette, `ctrl+p`) |
| `escape` | leave a field (so the letter keys act again) |
| `?` | this help |
| `q` | quit (a running training is stopped first) |

**Editing.** Fields are checked as you type; a bad one is marked with its reason and training will
not start until it is fixed. While training runs, only the learning rate can be edited: press
`enter` in the field and it applies at the next optimisation step. An empty `steps` or `dt` is the
system's own (shown greyed); long numbers are shown to 6 digits, and a field you do not edit keeps
its exact value (its tooltip shows it).

**Plots.** The status line puts the best validation loss (one step ahead, from true inputs) beside
the RMSE of the latest **free-running** forecast: the gap between the two is the lesson. Where a
plot is too small for a legend, the coloured words of its title say which curve is which.
Losses are MSE in normalised units (log scale). The forecast and phase portrait are in
data units. *RMSE by horizon* shows the error of the latest forecast during training and, once the
run ends, the test-split curve over many starting points; for chaotic systems its title gives the
valid prediction time (VPT) in Lyapunov times. Field systems (KdV) show a Hovmöller (space-time) plot.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    AUTO_FOCUS = "#help-box"  # so the arrow keys and page up/down scroll it on a small terminal

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Label("escape closes · ↑ ↓ scroll", classes="hint")
            yield Markdown(HELP)

    def action_dismiss(self) -> None:
        self.dismiss(None)


class SavePresetScreen(ModalScreen[str | None]):
    """Ask a preset name; returns it (or None when cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#preset-name"

    def __init__(self, suggestion: str = "") -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box", classes="dialog"):
            yield Label("Save the configuration as a preset", classes="dialog-title")
            yield Input(
                self.suggestion,
                placeholder="name (letters, digits, _ . -)",
                validators=[Regex(r"[A-Za-z0-9_.-]+", failure_description="use letters, digits, _ . and - only")],
                id="preset-name",
            )
            yield Label("", id="save-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        name = self.query_one("#preset-name", Input).value.strip()
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            self.query_one("#save-error", Label).update("use letters, digits, _ . and - only")
            return
        self.dismiss(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class LoadPresetScreen(ModalScreen[str | None]):
    """Pick a preset from a list (shipped and user presets); returns its name."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#preset-list"

    def __init__(self, presets: dict[str, str]) -> None:
        super().__init__()
        self.presets = presets

    def compose(self) -> ComposeResult:
        with Vertical(id="load-box", classes="dialog"):
            yield Label("Load a preset (enter loads, escape cancels)", classes="dialog-title")
            if self.presets:
                yield OptionList(*[Option(f"{name}  [dim]{doc}[/]", id=name) for name, doc in self.presets.items()], id="preset-list")
            else:
                yield Label("no presets found")

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
