"""The command line: happy paths and one-line errors (exit 1 or 2, no traceback)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import tabgen
from tabgen.cli import main


@pytest.fixture
def data_csv(tmp_path):
    df = tabgen.datasets.load_adult().head(1500)
    path = tmp_path / "adult.csv"
    df.to_csv(path, index=False)
    return path


def test_fit_sample_info(tmp_path, data_csv, capsys):
    model = tmp_path / "m.tabgen"
    assert (
        main(
            [
                "fit",
                str(data_csv),
                "-m",
                "copula",
                "-o",
                str(model),
                "--schema",
                "education_num=categorical",
            ]
        )
        == 0
    )
    assert model.is_file()
    out = tmp_path / "s.parquet"
    code = main(
        [
            "sample",
            str(model),
            "-n",
            "120",
            "-o",
            str(out),
            "--condition",
            "sex=Female",
            "--condition",
            "education_num=13",
            "--seed",
            "1",
        ]
    )
    assert code == 0
    rows = pd.read_parquet(out)
    assert (
        len(rows) == 120 and (rows["sex"] == "Female").all() and (rows["education_num"] == 13).all()
    )
    assert main(["info", str(model)]) == 0
    text = capsys.readouterr().out
    assert "GaussianCopulaSynthesizer" in text and "education_num" in text and "categorical" in text


def test_demo_writes_table_model_and_summary(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--train-rows", "800"]) == 0
    synth = pd.read_csv(out / "synthetic.csv")
    assert len(synth) == 800 and "income" in synth.columns
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_synthetic"] == 800 and summary["fit_seconds"] >= 0
    assert tabgen.load(out / "model.tabgen").n_rows_ == 800
    assert 0.5 < summary["scores"]["shape"] <= 1.0
    html = (out / "report.html").read_text()
    assert "data:image/png;base64" in html
    assert json.loads((out / "report.json").read_text())


def test_evaluate_command(tmp_path, capsys):
    real = tabgen.datasets.load_adult().head(600)
    synth = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(real).sample(600, random_state=0)
    holdout = tabgen.datasets.load_adult("test").head(600)
    paths = {}
    for name, frame in (("real", real), ("synth", synth), ("holdout", holdout)):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    report = tmp_path / "r.html"
    argv = ["evaluate", str(paths["real"]), str(paths["synth"]), "--holdout", str(paths["holdout"])]
    assert main([*argv, "--target", "income", "-o", str(report)]) == 0
    scores = json.loads(report.with_suffix(".json").read_text())
    assert report.is_file() and scores
    assert "shape" in capsys.readouterr().out
    again = [*argv, "-o", str(tmp_path / "r2.html")]
    assert main([*again, "--target", "nope"]) == 2  # a flag naming a column the data lacks


@pytest.mark.parametrize(
    ("argv", "message", "status"),
    [
        (["fit", "{tmp}/missing.csv", "-o", "{tmp}/m.tabgen"], "no such file", 1),
        (["fit", "{tmp}/bad.csv", "-o", "{tmp}/m.tabgen"], "cannot read", 1),
        (["fit", "{tmp}", "-o", "{tmp}/m.tabgen"], "is a folder", 1),
        (
            ["sample", "{model}", "-n", "5", "-o", "{tmp}/o.csv", "--condition", "sex=Alien"],
            "unknown category 'Alien'",
            2,
        ),
        (
            ["sample", "{model}", "-n", "5", "-o", "{tmp}/o.csv", "--condition", "nope=1"],
            "unknown column 'nope'",
            2,
        ),
        (
            "sample {model} -n 5 -o {tmp}/o.csv --condition sex=Male --condition sex=Ma".split(),
            "--condition given twice for column 'sex' ('Male' and 'Ma')",
            2,
        ),
        (["sample", "{tmp}/missing.tabgen", "-n", "5", "-o", "{tmp}/o.csv"], "does not exist", 1),
        (["sample", "{tmp}", "-n", "5", "-o", "{tmp}/o.csv"], "is a folder", 1),
        (["info", "{tmp}/bad.csv"], "not a tabgen model file", 1),
        (["fit", "{csv}", "-o", "{tmp}/m.tabgen", "--schema", "nope=categorical"], "'nope'", 2),
        (["fit", "{csv}", "-o", "{tmp}/m.tabgen", "-m", "nope"], "unknown model 'nope'", 2),
        (
            "rebalance {csv} --target income --strategy yes=abc -o {tmp}/r.csv".split(),
            "--strategy: the count for class 'yes' must be an integer, got 'abc'",
            2,
        ),
    ],
)
def test_errors_are_one_line(tmp_path, data_csv, capsys, argv, message, status):
    (tmp_path / "bad.csv").write_text('a,b\n1,2,3,4\n"x')
    model = tmp_path / "good.tabgen"
    tabgen.GaussianCopulaSynthesizer(random_state=0).fit(pd.read_csv(data_csv)).save(model)
    argv = [a.format(tmp=tmp_path, model=model, csv=data_csv) for a in argv]
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert err.startswith("tabgen: error:") and message in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_non_positive_n_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sample", "m.tabgen", "-n", "0", "-o", str(tmp_path / "o.csv")])
    assert exc.value.code == 2
    assert "positive integer" in capsys.readouterr().err


def test_rebalance_and_impute_commands(tmp_path, data_csv, capsys):
    out = tmp_path / "balanced.csv"
    rebalance = ["rebalance", str(data_csv), "--target", "income", "-m", "copula"]
    assert main([*rebalance, "-o", str(out), "--mark-synthetic"]) == 0
    table = pd.read_csv(out)
    counts = table["income"].value_counts()
    assert counts["<=50K"] == counts[">50K"] and table["is_synthetic"].sum() > 0
    raw = tmp_path / "raw.csv"
    args = [*rebalance, "--seed", "0"]
    assert main([*args, "-o", str(out)]) == 1  # exists
    assert main([*args, "-o", str(out), "--overwrite"]) == 0
    assert main([*args, "--selection", "none", "-o", str(raw)]) == 0
    selected, unselected = pd.read_csv(out), pd.read_csv(raw)
    assert selected["income"].value_counts().equals(unselected["income"].value_counts())
    assert not selected.equals(unselected)  # the flag reaches the over-sampler
    holes = pd.read_csv(data_csv)
    holes.loc[::4, "age"] = None
    path = tmp_path / "holes.csv"
    holes.to_csv(path, index=False)
    filled = tmp_path / "filled.parquet"
    assert main(["impute", str(path), "-o", str(filled), "--draws", "2"]) == 0
    assert pd.read_parquet(filled)["age"].notna().all()
    new = str(tmp_path / "new.csv")
    assert main(["rebalance", str(data_csv), "--target", "nope", "-m", "copula", "-o", new]) == 2
    assert "unknown --target column 'nope'" in capsys.readouterr().err
    assert main([*rebalance, "--strategy", "0.01", "-o", new]) == 1  # refused by the data
    capsys.readouterr()
    # the default model, diffusion, says up front that it takes minutes
    default = ["rebalance", str(data_csv), "--target", "income", "--epochs", "1"]
    assert main([*default, "-o", str(out), "--overwrite"]) == 0
    assert "fitting the diffusion model on 1500 rows" in capsys.readouterr().err
    assert pd.read_csv(out)["income"].value_counts().nunique() == 1  # balanced
