"""Typed configuration: presets, TOML files, --set overrides and the errors for bad input."""

import subprocess
import sys

import pytest

from rnn_tui import config
from rnn_tui.errors import UserError
from rnn_tui.models import registry

# Every model field of rnn-tui 0.1's flat ModelConfig, as its runs wrote them in config.toml and model.pt.
OLD_FLAT_MODEL = {
    "arch": "lstm", "hidden_size": 8, "num_layers": 1, "activation": "tanh", "dropout": 0.0, "learn_h0": False,
    "head_size": 0, "residual": True, "dense_size": 32, "spectral_radius": 0.9, "leak_rate": 1.0,
    "input_scaling": 0.5, "sparsity": 0.9, "washout": 50, "ridge": 1e-6, "readout": "linear", "filters": 16,
    "kernel_size": 5, "batch_norm": False, "scheme": "rk4", "substeps": 1,
}


def test_defaults_are_valid_and_typed():
    cfg = config.load()
    assert cfg.system.name == "sine" and cfg.model.arch == "lstm"
    assert cfg == config.Config() and isinstance(cfg.model, registry.ARCHS["lstm"])


def test_every_field_of_every_table_has_a_description():
    classes = [c for c in config.SECTIONS.values() if c is not None] + list(registry.CONFIGS) + [config.Config]
    for cls in classes:
        for name, info in cls.model_fields.items():
            assert info.description and len(info.description) > 8, f"{cls.__name__}.{name} has no description"
    for cls in registry.CONFIGS:
        assert cls.doc, cls.__name__


def test_each_architecture_takes_only_its_own_fields():
    assert registry.ARCHS["lstm"].applies == ("hidden_size", "num_layers", "dropout", "learn_h0", "head_size", "residual")
    assert "dense_size" in registry.ARCHS["dense_gru"].applies and "activation" in registry.ARCHS["rnn"].applies
    assert set(registry.ARCHS["rk4"].applies) == {"hidden_size", "scheme", "substeps"}
    assert set(registry.ARCHS["convlstm"].applies) == {"filters", "kernel_size", "batch_norm", "residual"}
    assert [a for a, c in registry.ARCHS.items() if c.supports_field] == ["esn", "ngrc_local", "convlstm"]
    # the union of the architectures' fields is rnn-tui 0.1's flat model table and those of the
    # architectures added since (ngrc, ngrc_local), and the plain RNN's init_radius (issue 24)
    assert set(registry.ARCHS["ngrc"].applies) == {"delays", "skip", "order", "constant", "ridge"}
    assert config.MODEL_KEYS == set(OLD_FLAT_MODEL) | {"delays", "skip", "order", "constant", "radius", "init_radius"}


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
        (["model.hidden_size=0"], ["model.hidden_size must be in [1, 4096], got 0"]),
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


def test_dump_writes_only_the_architectures_fields_and_every_preset_round_trips(tmp_path):
    import tomllib

    for name in config.list_presets():
        cfg = config.load(preset=name)
        text = config.dumps(cfg, f"preset {name}\nsecond line")
        assert text.startswith("# preset " + name + "\n# second line\n")
        data = tomllib.loads(text)
        assert set(data["model"]) == {"arch", *registry.ARCHS[cfg.model.arch].applies}
        assert config.from_dict(data, name) == cfg
        assert config.to_dict(cfg) == data


def test_a_key_of_another_architecture_names_the_key_the_arch_and_what_it_takes():
    with pytest.raises(UserError) as err:
        config.load("lorenz63_lstm", overrides=["model.dense_size=3"])
    msg = str(err.value)
    assert msg.startswith(str(config.preset_path("lorenz63_lstm")))
    assert "model.dense_size does not apply to model.arch 'lstm' (it takes: hidden_size, num_layers, dropout, learn_h0, head_size, residual)" in msg
    assert err.value.key == "model.dense_size" and "\n" not in msg
    # a key that does apply once the architecture changes is fine
    assert config.load("lorenz63_lstm", overrides=["model.arch=dense_gru", "model.dense_size=3"]).model.dense_size == 3


def test_a_key_of_another_architecture_on_the_command_line_is_exit_2_and_one_line(tmp_path):
    out = tmp_path / "run"
    p = subprocess.run([sys.executable, "-m", "rnn_tui", "train", "--preset", "sine_rnn", "--set", "model.dense_size=3", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnn-tui: error:"), p.stderr
    assert "model.dense_size does not apply to model.arch 'rnn' (it takes: hidden_size, num_layers, dropout," in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "override, key",
    [("model.hidden_size=0", "model.hidden_size"), ("train.lr=-1", "train.lr"), ("model.dropout=1", "model.dropout"),
     ("train.optimizer=adamw", "train.optimizer"), ("model.arch=lsmt", "model.arch"), ("train.lrr=1", "train.lrr"),
     ("system.steps=1", "system.steps"), ("system.name=lorenz", "system.name"), ("train.test_fraction=0.75", "train.val_fraction")],
)
def test_user_error_names_its_key(override, key):
    with pytest.raises(UserError) as err:
        config.load("lorenz63_lstm", overrides=[override])
    assert err.value.key == key, str(err.value)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[train]\nlr = nan\n", "train.lr must be finite, got nan"),
        ("[train]\nlr = inf\n", "train.lr must be finite"),
        ("[train]\nepochs = true\n", "train.epochs must be an integer, got true"),
        ("[model]\narch = 'esn'\nleak_rate = 0\n", "model.leak_rate must be in (0, 1], got 0"),
        ("[model]\narch = 'esn'\nreadout = 'quadratik'\n", "model.readout must be one of linear, quadratic; got 'quadratik' (did you mean 'quadratic'?)"),
        ("[system]\nname = 'kdv'\n[model]\narch = 'convlstm'\nkernel_size = 4\n", "model.kernel_size must be odd, got 4"),
        ("[model]\nhidden_size = 2.5\n", "model.hidden_size must be an integer, got 2.5"),
        ("train = 3\n", "[train] must be a table"),
    ],
)
def test_bad_values_in_a_file(tmp_path, text, words):
    p = tmp_path / "mine.toml"
    p.write_text(text)
    with pytest.raises(UserError) as err:
        config.load(config=p)
    msg = str(err.value)
    assert msg.startswith(str(p) + ": ") and words in msg and "\n" not in msg, msg


def test_form_strings_are_converted():
    cfg = config.from_dict({"model": {"arch": "rnn", "hidden_size": "16", "learn_h0": "true"}, "train": {"lr": "3e-3"}}, "form")
    assert cfg.model.hidden_size == 16 and cfg.model.learn_h0 is True and cfg.train.lr == 3e-3
    assert config.check_value("train.lr", "0.5") == 0.5
    with pytest.raises(UserError, match=r"^model.dense_size must be in \[1, 4096\], got 0$") as err:
        config.check_value("model.dense_size", "0", arch="dense_gru")
    assert err.value.key == "model.dense_size"


def test_old_flat_config_loads_leniently_from_a_run_but_not_as_a_user_file(tmp_path):
    import tomli_w

    old = {"system": {"name": "sine", "params": {}, "steps": 300}, "model": OLD_FLAT_MODEL, "train": {"seq_len": 5}}
    path = tmp_path / "config.toml"
    path.write_text("# Resolved configuration of this run\n" + tomli_w.dumps(old))
    cfg = config.load(config=path, strict=False)
    assert cfg.model == config.model_config("lstm", hidden_size=8)
    with pytest.raises(UserError) as err:
        config.load(config=path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(path))
    assert "model.activation, model.dense_size, model.spectral_radius and 11 more do not apply to model.arch 'lstm'" in msg
    assert "written by rnn-tui 0.1 lists every model field" in msg
    # lenient reading drops only other architectures' keys: an unknown key is still an error
    with pytest.raises(UserError, match="unknown key model.hiden_size"):
        config.from_dict({**old, "model": {**OLD_FLAT_MODEL, "hiden_size": 3}}, "run", strict=False)


def test_saved_model_of_an_old_run_still_loads(tmp_path):
    import numpy as np
    import torch

    from rnn_tui.core import runio
    from rnn_tui.models.base import ModelSpec

    old = {"system": {"name": "sine", "params": {}}, "model": OLD_FLAT_MODEL, "train": {"seq_len": 5}, "rollout": {}}
    torch.manual_seed(0)
    model = registry.build(ModelSpec(dim=1, seq_len=5), config.model_config("lstm", hidden_size=8))
    payload = {"format": "rnn-tui/1", "config": old, "state_dict": model.state_dict(), "mean": [0.1], "std": [2.0], "dim": 1, "dt": 0.05}
    torch.save(payload, tmp_path / "model.pt")
    loaded, cfg, mean, std = runio.load_model(tmp_path / "model.pt")
    assert cfg.model.arch == "lstm" and cfg.model.hidden_size == 8 and np.allclose(std, [2.0])
    x = torch.randn(2, 5, 1)
    torch.testing.assert_close(loaded(x), model.eval()(x))


def test_user_presets_go_to_the_platform_data_folder_without_rnn_tui_home(monkeypatch, tmp_path):
    from pathlib import Path

    import platformdirs

    assert config.user_presets_dir() == tmp_path / "home" / "presets"  # RNN_TUI_HOME (conftest)
    monkeypatch.delenv("RNN_TUI_HOME")
    assert config.user_presets_dir() == Path(platformdirs.user_data_dir("rnn-tui", appauthor=False)) / "presets"
