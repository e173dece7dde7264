"""The command line's flags: one meaning each, defaults in every --help, progress switches."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen import cli
from tabgen.cli import main


@pytest.fixture
def data_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    frame = pd.DataFrame(
        {"x": x, "y": 2 * x + rng.normal(size=200), "c": rng.choice(list("abc"), 200)}
    )
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def _subparsers():
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, sub.choices


def test_every_help_shows_defaults_and_no_markup():
    parser, commands = _subparsers()
    texts = {"tabgen": parser.format_help()}
    texts.update({name: p.format_help() for name, p in commands.items()})
    for name, text in texts.items():
        assert "``" not in text and ":class:" not in text, name
    for name, p in commands.items():
        for action in p._actions:
            if action.help and action.default not in (None, False, argparse.SUPPRESS):
                shown = p.formatter_class(name)._get_help_string(action)
                assert "%(default)" in shown, (name, action.dest)
    assert "(default: 0)" in " ".join(commands["fit"].format_help().split())
    assert "(default: copula)" in " ".join(commands["fit"].format_help().split())


def test_rows_means_output_rows_everywhere():
    _, commands = _subparsers()
    for name, p in commands.items():
        for action in p._actions:
            if "--rows" in action.option_strings:
                assert action.option_strings == ["-n", "--rows"], name
                assert "row" in action.help
    assert any("--train-rows" in a.option_strings for a in commands["demo"]._actions)


def test_every_command_has_verbose_and_quiet():
    _, commands = _subparsers()
    for name, p in commands.items():
        flags = {f for a in p._actions for f in a.option_strings}
        assert {"--verbose", "--quiet", "--debug"} <= flags, name


def test_model_lists_match_the_registry_and_capabilities():
    from tabgen.cli.common import INPAINTING_MODELS, MODEL_NAMES

    assert set(MODEL_NAMES) == set(tabgen.SYNTHESIZERS)
    can = {n for n in tabgen.SYNTHESIZERS if tabgen.SYNTHESIZERS[n].capabilities.inpainting}
    assert set(INPAINTING_MODELS) == can


def test_impute_refuses_a_model_that_cannot_inpaint(tmp_path, data_csv, capsys):
    code = main(["impute", str(data_csv), "-m", "gan", "-o", str(tmp_path / "o.csv")])
    assert code == 2
    assert "cannot fill missing cells" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_fit_param_device_max_time_epsilon(tmp_path, data_csv, capsys):
    out = tmp_path / "m.tabgen"
    argv = ["fit", str(data_csv), "-m", "vae", "-o", str(out), "--param", "epochs=2"]
    assert main([*argv, "--param", "batch_size=50", "--device", "cpu", "--max-time", "30"]) == 0
    model = tabgen.load(out)
    assert (model.epochs, model.batch_size, model.device, model.max_time) == (2, 50, "cpu", 30.0)
    assert main([*argv, "--overwrite", "--param", "nope=1"]) == 2
    assert "nope" in capsys.readouterr().err
    dp = tmp_path / "dp.tabgen"
    assert main(["fit", str(data_csv), "-o", str(dp), "--epsilon", "2", "--quiet"]) == 0
    assert tabgen.load(dp).epsilon == 2.0


def test_fit_epsilon_on_a_model_without_dp_mode_is_a_usage_error():
    # every registered model has a DP mode today: a model without one is made up here
    from sklearn.base import BaseEstimator

    from tabgen.cli.common import UsageError, model_params
    from tabgen.cli.parser import build_parser

    class NoPrivacy(BaseEstimator):
        def __init__(self, *, random_state=None, verbose=False):
            self.random_state = random_state
            self.verbose = verbose

    args = build_parser().parse_args(["fit", "d.csv", "-o", "m.tabgen", "--epsilon", "1"])
    with pytest.raises(UsageError, match="--epsilon"):
        model_params(NoPrivacy, args, "noprivacy")
    args = build_parser().parse_args(["fit", "d.csv", "-o", "m.tabgen"])
    assert model_params(NoPrivacy, args, "noprivacy")["random_state"] == args.seed


def test_quiet_shows_no_bar_and_verbose_shows_one(tmp_path, data_csv, capfd):
    base = ["fit", str(data_csv), "-m", "vae", "--epochs", "2", "-o"]
    assert main([*base, str(tmp_path / "a.tabgen"), "--quiet"]) == 0
    assert capfd.readouterr().err == ""
    assert main([*base, str(tmp_path / "b.tabgen"), "--verbose"]) == 0
    assert "2/2" in capfd.readouterr().err
    assert (
        main(
            [
                "sample",
                str(tmp_path / "b.tabgen"),
                "--rows",
                "30",
                "-o",
                str(tmp_path / "s.csv"),
                "-v",
            ]
        )
        == 0
    )
    assert "30/30" in capfd.readouterr().err
    assert len(pd.read_csv(tmp_path / "s.csv")) == 30


def test_info_json(tmp_path, data_csv, capsys):
    model = tmp_path / "m.tabgen"
    assert main(["fit", str(data_csv), "-o", str(model)]) == 0
    capsys.readouterr()
    assert main(["info", str(model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class"] == "GaussianCopulaSynthesizer" and info["n_rows"] == 200
    assert [c["name"] for c in info["columns"]] == ["x", "y", "c"]


def test_schema_file_on_fit_and_evaluate(tmp_path, data_csv, capsys, monkeypatch):
    frame = pd.read_csv(data_csv).assign(k=lambda d: np.arange(len(d)) % 3)
    frame.to_csv(data_csv, index=False)
    schema = tmp_path / "kinds.json"
    schema.write_text(json.dumps({"k": "categorical"}))
    model = tmp_path / "m.tabgen"
    assert main(["fit", str(data_csv), "-o", str(model), "--schema-file", str(schema)]) == 0
    assert tabgen.load(model).schema_["k"].kind == "categorical"
    missing = ["fit", str(data_csv), "-o", str(tmp_path / "n.tabgen"), "--schema-file", "no.json"]
    assert main(missing) == 2
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = ["evaluate", str(data_csv), str(data_csv), "--schema-file", str(schema), "-q"]
    capsys.readouterr()
    assert main(argv) == 0
    assert "shape" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no report.html by default


# -- --preset on the pipeline commands ---------------------------------------------------------
def test_preset_lists_match_the_pipelines():
    from tabgen.cli.common import PRESETS
    from tabgen.pipelines import _presets, imputation

    assert PRESETS["rebalance"] == _presets.PRESETS["SyntheticOverSampler"]
    assert PRESETS["anonymize"] == _presets.PRESETS["Anonymizer"]
    assert PRESETS["impute"] == {
        name: spec and spec[0] for name, spec in imputation.PRESETS.items()
    }


def test_preset_help_defaults_and_usage_errors(tmp_path, data_csv, capsys):
    _, commands = _subparsers()
    for name, default in (("rebalance", "best"), ("impute", "chained"), ("anonymize", None)):
        (action,) = [a for a in commands[name]._actions if "--preset" in a.option_strings]
        assert action.default == default, name
        text = " ".join(commands[name].format_help().split())
        assert "--preset" in text and ("(default: best)" in text) == (name == "rebalance")
    out = str(tmp_path / "o.csv")
    for argv in (
        ["rebalance", str(data_csv), "--target", "c", "--preset", "fast", "-m", "gan"],
        ["anonymize", str(data_csv), "--preset", "good"],
        ["impute", str(data_csv), "--preset", "best"],  # impute's presets differ
    ):
        with pytest.raises(SystemExit) as exc:
            main([*argv, "-o", out])
        assert exc.value.code == 2, argv
        err = capsys.readouterr().err
        assert "not allowed with argument" in err or "invalid choice" in err, argv
    code = main(["impute", str(data_csv), "--preset", "fast", "--epochs", "2", "-o", out])
    assert code == 2
    assert "--epochs sets a synthesizer's parameter" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_preset_chooses_the_model(tmp_path, data_csv, capsys):
    def run(*argv):
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}.csv"
        assert main([*argv, "--seed", "3", "-o", str(out)]) == 0
        return pd.read_csv(out)

    rebalance = ["rebalance", str(data_csv), "--target", "c", "--strategy", "all"]
    fast = run(*rebalance, "--preset", "fast")
    assert fast.equals(run(*rebalance, "-m", "copula"))
    assert fast["c"].value_counts().nunique() == 1
    holes = pd.read_csv(data_csv)
    holes.loc[::3, "y"] = None
    path = tmp_path / "holes.csv"
    holes.to_csv(path, index=False)
    filled = run("impute", str(path), "--preset", "fast")
    expected = tabgen.pipelines.SyntheticImputer(preset="fast", random_state=3).fit_transform(holes)
    np.testing.assert_allclose(filled["y"], expected["y"])
    assert not np.allclose(filled["y"], run("impute", str(path))["y"])  # chained differs
    capsys.readouterr()
    run("anonymize", str(data_csv), "--preset", "fast")
    assert "fitted copula on" in capsys.readouterr().out
