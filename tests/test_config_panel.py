"""The configuration panel on its own: tooltips and bounds from the field metadata, per-field and
cross-field errors on the right row, and the model rows following the chosen architecture."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input

from rnn_tui import config as C
from rnn_tui.models.registry import ARCHS
from rnn_tui.tui.config_panel import ConfigPanel

SIZE = (120, 80)


class PanelApp(App):
    def __init__(self, cfg: C.Config) -> None:
        super().__init__()
        self.cfg = cfg

    def compose(self) -> ComposeResult:
        yield ConfigPanel(self.cfg, id="config")

    @property
    def panel(self) -> ConfigPanel:
        return self.query_one(ConfigPanel)


def model_rows(panel: ConfigPanel) -> list[str]:
    return [k.split(".", 1)[1] for k in panel.rows if k.startswith("model.") and k != "model.arch"]


async def test_tooltips_and_placeholders_come_from_the_field_metadata():
    app = PanelApp(C.load("lorenz63_esn"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = app.panel.rows
        for key, info in [("train.seq_len", C.TrainConfig.model_fields["seq_len"]),
                          ("model.leak_rate", ARCHS["esn"].model_fields["leak_rate"]),
                          ("system.noise", C.SystemConfig.model_fields["noise"])]:
            assert info.description
            assert rows[key].label.tooltip == info.description
            assert rows[key].editor.tooltip == info.description
        assert rows["model.leak_rate"].editor.placeholder == "in (0, 1]"
        assert rows["train.lr"].editor.placeholder == "> 0"
        # the ESN's readout is solved in closed form: the learning rate does not apply, and says why
        assert rows["train.lr"].label.tooltip == C.TrainConfig.model_fields["lr"].description
        assert rows["train.lr"].editor.disabled and "closed form" in rows["train.lr"].editor.tooltip
        assert rows["model.arch"].label.tooltip == ARCHS["esn"].model_fields["arch"].description


async def test_a_bad_bound_is_shown_on_its_row():
    app = PanelApp(C.load("lorenz63_lstm"))
    async with app.run_test(size=SIZE) as pilot:
        row = app.panel.rows["model.hidden_size"]
        row.editor.value = "0"
        await pilot.pause()
        allowed = C.bounds_text(ARCHS["lstm"].model_fields["hidden_size"])  # ">= 1" or "in [1, N]"
        # under its row the message does not repeat the key; on its own (a notification) it names it once
        assert row.error == f"must be {allowed}, got 0" and row.has_class("-bad")
        assert str(row.message.render()) == f"must be {allowed}, got 0"
        assert app.panel.revalidate() == f"model.hidden_size must be {allowed}, got 0"
        row.editor.value = "64"
        app.panel.rows["system.noise"].editor.value = "abc"
        await pilot.pause()
        assert app.panel.rows["system.noise"].error == "must be a number, got 'abc'"
        assert app.panel.revalidate() == "system.noise must be a number, got 'abc'"
        # a system parameter's message (its own wording) is shown the same way
        app.panel.rows["system.noise"].editor.value = "0"
        app.panel.rows["system.params.rho"].editor.value = "x"
        await pilot.pause()
        assert app.panel.rows["system.params.rho"].error == "needs a number, got 'x'"
        assert app.panel.revalidate() == "system.params.rho needs a number, got 'x'"


async def test_a_cross_field_error_marks_the_row_its_key_names():
    app = PanelApp(C.load("lorenz63_lstm"))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        panel.rows["train.val_fraction"].editor.value = "0.5"
        panel.rows["train.test_fraction"].editor.value = "0.45"
        await pilot.pause()
        assert "must leave at least 10% for training" in panel.rows["train.val_fraction"].error
        assert panel.rows["train.test_fraction"].error == "" and not panel.general.display
        panel.rows["train.test_fraction"].editor.value = "0.1"
        await pilot.pause()
        assert panel.rows["train.val_fraction"].error == ""
        # a field system with a vector architecture: the architecture's row says so
        panel.rows["system.name"].editor.value = "kdv"
        await pilot.pause()
        assert "is a field; model.arch 'lstm' cannot take it (use esn, ngrc_local, convlstm)" in panel.rows["model.arch"].error


async def test_model_rows_follow_the_architecture_and_keep_shared_values():
    app = PanelApp(C.load("lorenz63_lstm"))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        assert model_rows(panel) == list(ARCHS["lstm"].applies)
        panel.rows["model.hidden_size"].editor.value = "12"
        panel.rows["model.arch"].editor.value = "esn"
        await pilot.pause()
        assert model_rows(panel) == list(ARCHS["esn"].applies)
        shown = [r.key for r in panel.query("#model-fields FieldRow")]
        assert shown == [f"model.{f}" for f in ARCHS["esn"].applies]  # the old rows are gone from the screen
        assert panel.rows["model.hidden_size"].value == "12"  # typed, and esn takes it too
        assert panel.rows["model.leak_rate"].value == ARCHS["esn"]().leak_rate
        assert panel.build().model == C.model_config("esn", hidden_size=12)
        # a model row of the new architecture is checked against its own bounds
        panel.rows["model.sparsity"].editor.value = "1"
        await pilot.pause()
        assert panel.rows["model.sparsity"].error == "must be in [0, 1), got 1"
        panel.rows["model.sparsity"].editor.value = "0.5"
        panel.rows["model.arch"].editor.value = "gru"
        await pilot.pause()
        assert model_rows(panel) == list(ARCHS["gru"].applies)
        cfg = panel.build()
        assert cfg.model == C.model_config("gru", hidden_size=12)


async def test_load_rebuilds_the_model_rows():
    app = PanelApp(C.load("lorenz63_lstm"))
    async with app.run_test(size=SIZE) as pilot:
        wanted = C.load("kdv_convlstm", overrides=["model.filters=6"])
        app.panel.load(wanted)
        await pilot.pause()
        assert model_rows(app.panel) == list(ARCHS["convlstm"].applies)
        assert app.panel.build() == wanted
        assert isinstance(app.panel.rows["model.filters"].editor, Input) and app.panel.rows["model.filters"].editor.value == "6"
        app.panel.load(C.Config())
        await pilot.pause()
        assert app.panel.build() == C.Config()


@pytest.mark.heavy  # a CI tier (.ci/run): over 5 s on the default run
async def test_an_untouched_form_is_exactly_its_config_for_every_preset():
    # Floats are shown short, but what the form gives back is the value it was filled with.
    first, *others = C.list_presets()
    app = PanelApp(C.load(first))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.panel.build() == C.load(first)
        for name in others:
            wanted = C.load(name)
            app.panel.load(wanted)
            await pilot.pause()
            assert app.panel.build() == wanted, name
            assert app.panel.revalidate() == "", name


async def test_floats_are_shown_short_and_kept_exact():
    cfg = C.load("lorenz63_lstm")
    app = PanelApp(cfg)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        beta = app.panel.rows["system.params.beta"]
        assert beta.editor.value == "2.66667" and beta.value == 8 / 3
        assert "2.6666666666666665" in beta.editor.tooltip  # the exact value, where one looks for it
        assert app.panel.rows["train.lr"].editor.value == repr(cfg.train.lr)  # already short: as is
        app.panel.rows["train.lr"].editor.value = "0.002"  # an edit elsewhere leaves beta exact
        await pilot.pause()
        built = app.panel.build()
        assert built.system.params.get("beta", 8 / 3) == 8 / 3 and built.train.lr == 0.002
        beta.editor.value = "2.5"  # an edit of the field itself is what was typed
        await pilot.pause()
        assert app.panel.build().system.params["beta"] == 2.5


async def test_steps_and_dt_show_the_systems_default():
    from rnn_tui.systems import SYSTEMS

    app = PanelApp(C.Config())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        steps, dt = app.panel.rows["system.steps"], app.panel.rows["system.dt"]
        sine = SYSTEMS["sine"]
        assert steps.editor.value == "" and steps.editor.placeholder == f"default {sine.steps}"
        assert dt.editor.value == "" and dt.editor.placeholder == f"default {sine.dt:.6g}"
        assert app.panel.build() == C.Config()
        steps.editor.value = "500"
        await pilot.pause()
        assert app.panel.build().system.steps == 500
        steps.editor.value = ""  # empty again: the default
        await pilot.pause()
        assert steps.error == "" and app.panel.build().system.steps == 0
        steps.editor.value = "1"
        await pilot.pause()
        assert steps.error.startswith("must be") and "system.steps" not in steps.error
        steps.editor.value = ""
        app.panel.rows["system.name"].editor.value = "lorenz63"
        await pilot.pause()
        assert steps.editor.placeholder == f"default {SYSTEMS['lorenz63'].steps}"
        assert dt.editor.placeholder == "default 0.01"
