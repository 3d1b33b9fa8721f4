"""Typed configuration: presets, TOML files, --set overrides and the errors for bad input."""

import dataclasses

import pytest

from rnn_tui import config
from rnn_tui.errors import UserError


def test_defaults_are_valid_and_typed():
    cfg = config.load()
    assert cfg.system.name == "sine" and cfg.model.arch == "lstm"
    # every field of every section carries a comment in the source (self-documenting config)
    import inspect

    src = inspect.getsource(config)
    for section in config.SECTIONS.values():
        for f in dataclasses.fields(section):
            line = next(l for l in src.splitlines() if l.strip().startswith(f"{f.name}:"))
            assert "#" in line, f"{section.__name__}.{f.name} has no comment"


def test_every_shipped_preset_loads_and_says_what_it_reproduces():
    presets = config.list_presets()
    for name in ["sine_rnn", "noisy_sine_rnn", "oscillator_lstm", "lotka_volterra_rnn", "lotka_volterra_lstm",
                 "lorenz63_lstm", "lorenz63_esn", "lorenz63_rk4", "lorenz63_mlp", "kdv_convlstm", "logistic_irnn"]:
        assert name in presets
        assert "otes" in presets[name] or "Fablet" in presets[name], f"{name}: first comment should cite the notes"
        config.load(preset=name)


def test_overrides_with_dotted_keys():
    cfg = config.load("lorenz63_lstm", overrides=["train.lr=3e-3", "system.params.rho=30", "model.learn_h0=true", "train.optimizer=sgd"])
    assert cfg.train.lr == 3e-3
    assert cfg.system.params == {"rho": 30}
    assert cfg.model.learn_h0 is True and cfg.train.optimizer == "sgd"


@pytest.mark.parametrize(
    "override, words",
    [
        (["train.lrr=1"], ["train.lrr", "did you mean 'lr'"]),
        (["trian.lr=1"], ["[trian]", "did you mean 'train'"]),
        (["train.lr=0"], ["train.lr must be > 0"]),
        (["train.lr=abc"], ["train.lr must be a number"]),
        (["model.hidden_size=0"], ["model.hidden_size must be >= 1"]),
        (["model.arch=lsmt"], ["model.arch must be one of", "did you mean 'lstm'"]),
        (["system.name=lorenz"], ["unknown system 'lorenz'"]),
        (["system.params.sigmaa=3"], ["unknown parameter 'sigmaa'", "sigma"]),
        (["train.epochs=2.5"], ["train.epochs must be an integer"]),
        (["system.name=kdv"], ["is a field", "convlstm"]),
        (["model.arch=convlstm"], ["needs a field system"]),
        (["lr"], ["KEY=VALUE"]),
    ],
)
def test_bad_values_name_the_problem(override, words):
    with pytest.raises(UserError) as err:
        config.load("lorenz63_lstm", overrides=override)
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_unknown_key_in_file_names_file_and_closest(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text("[train]\nepochs = 3\nbatchsize = 4\n")
    with pytest.raises(UserError, match=r"mine.toml.*train.batchsize.*did you mean 'batch_size'"):
        config.load(config=p)


def test_malformed_toml_names_file_and_line(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("[train]\nepochs = 3\nlr = = 2\n")
    with pytest.raises(UserError, match=r"broken.toml.*line 3"):
        config.load(config=p)


def test_unknown_preset_suggests_closest():
    with pytest.raises(UserError, match="did you mean 'sine_rnn'"):
        config.load(preset="sine_rn")


def test_dump_and_reload_round_trip(tmp_path):
    cfg = config.load("logistic_irnn", overrides=["train.lr=0.002", "system.params.x0=0.3"])
    p = tmp_path / "c.toml"
    p.write_text(config.dumps(cfg, "header line"))
    assert config.load(config=p) == cfg


def test_save_preset_and_load_back():
    cfg = config.load("sine_rnn", overrides=["train.epochs=7"])
    path = config.save_preset(cfg, "my_sine")
    assert path.is_file()
    assert "my_sine" in config.list_presets()
    assert config.load(preset="my_sine") == cfg
    with pytest.raises(UserError):
        config.save_preset(cfg, "bad name!")
