"""The anonymized-export pipeline: holdout, safeguards, streamed export, privacy report, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

import tabgen
from tabgen.cli import main
from tabgen.pipelines import Anonymizer
from tabgen.pipelines.anonymization import RARE_VALUE


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    income = np.round(rng.lognormal(10, 0.5, n), 2)
    income[0] = 9_999_999.0  # one extreme outlier
    city = rng.choice(["Oslo", "Rome", "Lima", "Kyiv"], n)
    city[:2] = ["Reykjavik", "Reykjavik"]  # a rare category (2 rows)
    city[2] = "Nuuk"  # a unique one
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "email": [f"person{i}@realmail.com" for i in range(n)],
            "age": age,
            "income": income,
            "city": city,
            "churn": np.where(age + rng.normal(0, 10, n) > 50, "yes", "no"),
        }
    )


def _copula():
    return tabgen.GaussianCopulaSynthesizer()


@pytest.fixture(scope="module")
def fitted():
    df = _table()
    return df, Anonymizer(synthesizer=_copula(), target="churn", random_state=0).fit(df)


def test_holdout_is_split_before_training(fitted):
    df, anon = fitted
    assert len(anon.holdout_) == 80 and len(anon.train_) == 320
    ids = np.r_[anon.train_["customer_id"], anon.holdout_["customer_id"]]
    assert sorted(ids) == sorted(df["customer_id"])  # nothing lost, nothing duplicated
    assert anon.synthesizer_.n_rows_ == 320


def test_pii_and_keys_are_regenerated_not_learned(fitted):
    df, anon = fitted
    assert anon.pii_columns_ == {"customer_id": "key", "email": "email"}
    assert "email" not in anon.synthesizer_.columns_
    assert "customer_id" not in anon.synthesizer_.columns_
    out = anon.sample(300, random_state=1)
    assert list(out.columns) == list(df.columns)
    assert not set(out["email"]) & set(df["email"])
    assert out["email"].str.fullmatch(r"[^@\s]+@example\.(com|org|net)").all()
    assert out["customer_id"].is_unique


def test_pii_drop_removes_the_columns():
    df = _table()
    out = Anonymizer(synthesizer=_copula(), pii="drop", random_state=0).fit(df).sample(100)
    assert list(out.columns) == ["age", "income", "city", "churn"]


def test_rare_categories_are_merged(fitted):
    _, anon = fitted
    counts = anon.train_["city"].value_counts()
    assert anon.rare_merged_ == {"city": int((counts < 5).sum())}
    assert anon.rare_merged_["city"] >= 1
    out = anon.sample(2000, random_state=2)
    assert not out["city"].isin(["Reykjavik", "Nuuk"]).any()
    assert (out["city"] == RARE_VALUE).any()
    assert (
        anon.sample(50, random_state=0)["city"].isin(["Oslo", "Rome", "Lima", "Kyiv", RARE_VALUE])
    ).all()


def test_rare_values_leave_no_trace_in_a_category_dtype():
    df = _table().assign(city=lambda d: d["city"].astype("category"))
    out = Anonymizer(synthesizer=_copula(), random_state=0).fit(df).sample(200, random_state=0)
    assert isinstance(out["city"].dtype, pd.CategoricalDtype)
    assert not {"Reykjavik", "Nuuk"} & set(out["city"].cat.categories)


def test_numbers_are_clipped_to_robust_bounds(fitted):
    df, anon = fitted
    low, high = anon.bounds_["income"]
    ordered = np.sort(anon.train_["income"].to_numpy())
    assert ordered[4] <= low <= ordered[6] and ordered[-7] <= high <= ordered[-5]
    out = anon.sample(3000, random_state=3)
    assert out["income"].max() <= high < df["income"].max()
    assert out["age"].min() >= anon.bounds_["age"][0]


class _Memorizer(BaseEstimator):
    """Half of its rows are exact training rows: what the filter must catch."""

    def __init__(self, random_state=None, schema=None):
        self.random_state = random_state
        self.schema = schema

    def fit(self, X):
        self.data_ = X.reset_index(drop=True)
        self.inner_ = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(X)
        return self

    def sample(self, n, random_state=None):
        rng = np.random.default_rng(random_state)
        copies = self.data_.iloc[rng.integers(0, len(self.data_), n // 2)]
        fresh = self.inner_.sample(n - n // 2, random_state=random_state)
        return pd.concat([copies, fresh], ignore_index=True)


def test_exact_copies_are_replaced_and_counted():
    df = _table()
    anon = Anonymizer(synthesizer=_Memorizer(), random_state=0).fit(df)
    out = anon.sample(400, random_state=0)
    cols = anon.model_columns_
    train = anon._protect(anon.train_[cols])
    merged = out[cols].merge(train.drop_duplicates(), how="inner", on=cols)
    assert len(merged) == 0
    assert anon.stats_["replaced"] >= 150  # about half of the first 400 drawn
    assert anon.safeguards()["rows_replaced"] == anon.stats_["replaced"]


def test_without_filter_copies_get_through():
    df = _table()
    anon = Anonymizer(synthesizer=_Memorizer(), distance_quantile=None, random_state=0).fit(df)
    # with the threshold off, exact copies are still replaced (distance 0)
    out = anon.sample(200, random_state=0)
    assert anon.distance_threshold_ == 0.0 and anon.stats_["replaced"] > 0
    assert len(out) == 200


def test_same_seed_same_output():
    df = _table()
    a = Anonymizer(synthesizer=_copula(), random_state=5).fit(df).sample(100)
    b = Anonymizer(synthesizer=_copula(), random_state=5).fit(df).sample(100)
    pd.testing.assert_frame_equal(a, b)


def test_export_streams_and_refuses_to_overwrite(fitted, tmp_path):
    _, anon = fitted
    path = tmp_path / "out.parquet"
    _result, kept = anon.export(path, 1000, batch_size=300, keep_rows=400, random_state=0)
    back = tabgen.read_table(path)
    assert len(back) == 1000 and len(kept) == 400
    pd.testing.assert_frame_equal(back.head(400), kept, check_dtype=False)
    assert back["customer_id"].is_unique  # keys do not collide across batches
    with pytest.raises(FileExistsError, match="overwrite"):
        anon.export(path, 10)
    anon.export(path, 10, overwrite=True)
    assert len(tabgen.read_table(path)) == 10
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]  # no model, no partials


def test_kept_pii_column_is_learned_not_regenerated():
    """keep_columns asks for a PII-looking column to be learned: the inner model must not
    regenerate it with fake values (its own PII post-processor would, unless told)."""
    rng = np.random.default_rng(0)
    n = 300
    teams = [f"team{i}@corp.com" for i in range(5)]
    frame = pd.DataFrame(
        {
            "email": rng.choice(teams, n),
            "age": rng.integers(18, 80, n),
            "city": rng.choice(["a", "b", "c"], n),
        }
    )
    anon = Anonymizer(preset="fast", keep_columns=["email"], random_state=0).fit(frame)
    assert anon.sample(200)["email"].isin(teams).all()
    regenerated = Anonymizer(preset="fast", random_state=0).fit(frame).sample(200)
    assert not regenerated["email"].isin(teams).any()


def test_export_to_parquet_with_pii_dropped(tmp_path):
    """pii="drop" leaves the PII column out of the rows: the Parquet file follows the rows, not
    the model's schema (this raised StopIteration while writing)."""
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "email": [f"user{i}@corp.com" for i in range(n)],
            "age": rng.integers(18, 80, n),
            "city": rng.choice(["a", "b", "c"], n),
        }
    )
    anon = Anonymizer(preset="fast", pii="drop", random_state=0).fit(frame)
    path = anon.export(tmp_path / "out.parquet", 150, batch_size=100, random_state=0)
    back = pd.read_parquet(path)
    assert list(back.columns) == ["age", "city"] and len(back) == 150
    assert back["city"].isin(["a", "b", "c"]).all()


@pytest.mark.parametrize(
    ("kwargs", "n_rows", "match"),
    [
        ({}, 30, "at least 50"),
        ({"target": "nope"}, 400, r"target names column\(s\) \['nope'\]"),
        ({"pii_columns": ["ghost"]}, 400, "ghost"),
        ({"keep_columns": ["phantom"]}, 400, "phantom"),
        ({"holdout": 1.5}, 400, "holdout"),
        ({"holdout": 395}, 400, "at least 10"),
        ({"pii": "hide"}, 400, "pii must be"),
        ({"rare_threshold": -1}, 400, "rare_threshold"),
        ({"distance_quantile": 2.0}, 400, "distance_quantile"),
    ],
)
def test_bad_input_is_named(kwargs, n_rows, match):
    with pytest.raises(ValueError, match=match):
        Anonymizer(synthesizer=_copula(), **kwargs).fit(_table(n_rows))


def test_zero_rows_and_unfitted(fitted):
    _, anon = fitted
    with pytest.raises(ValueError, match="positive"):
        anon.sample(0)
    with pytest.raises(NotFittedError, match="not fitted"):  # scikit-learn's error
        Anonymizer().sample(5)


def test_keep_columns_learns_a_detected_column():
    df = _table()
    anon = Anonymizer(
        synthesizer=_copula(), keep_columns=["email"], pii="drop", random_state=0
    ).fit(df)
    assert "email" not in anon.pii_columns_
    assert "email" in anon.synthesizer_.columns_


def test_report_measures_risk_against_the_holdout(fitted, tmp_path):
    _, anon = fitted
    synthetic = anon.sample(320, random_state=4)
    report = anon.report(synthetic, n_attacks=60)
    scores = report.scores
    for key in ("dcr_share", "mia_auc", "exact_copy_rate", "utility_synthetic"):
        assert np.isfinite(scores[key]), key
    for attack in ("singling_out_univariate", "linkability", "inference"):
        low, high = scores[f"{attack}_risk_low"], scores[f"{attack}_risk_high"]
        assert 0.0 <= low <= scores[f"{attack}_risk"] <= high <= 1.0
    assert scores["exact_copy_rate"] == 0.0
    assert 0.0 <= scores["mia_auc_worst"] <= 1.0 and np.isfinite(scores["mia_tpr_at_1pct_fpr"])
    # the riskiest rows are named by their position in the fitted table, never by values
    risky = report.details["privacy"]["riskiest_rows"]
    assert list(risky.columns) == ["index", "risk"]
    assert set(risky["index"]) <= set(anon.train_rows_.tolist())
    guards = report.config["anonymizer"]
    assert guards["pii_columns"] == {"customer_id": "key", "email": "email"}
    assert "not a proof of anonymity" in guards["wording"]
    html = report.to_html(tmp_path / "r.html").read_text()
    assert "Safeguards" in html and "measured risk" in html.lower()


def test_cli_anonymize(tmp_path, capsys):
    data = tmp_path / "data.csv"
    _table().to_csv(data, index=False)
    out, rep = tmp_path / "syn.csv", tmp_path / "report.html"
    args = ["anonymize", str(data), "-o", str(out), "--report", str(rep), "-m", "copula"]
    assert main([*args, "--target", "churn", "-n", "200"]) == 0
    text = capsys.readouterr().out
    assert "near-copies replaced" in text and "not saved" in text
    assert len(pd.read_csv(out)) == 200
    assert json.loads(rep.with_suffix(".json").read_text())["config"]["anonymizer"]["pii_action"]
    assert main(args) == 1  # a refused output is a failure, not a usage error
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--pii", "drop"]) == 0
    assert "email" not in pd.read_csv(out).columns
    assert main(["anonymize", str(data), "-o", str(out), "--overwrite", "--target", "x"]) == 2
    assert "'x'" in capsys.readouterr().err


def test_differential_privacy_mode():
    df = _table(600)
    anon = Anonymizer(epsilon=3.0, target="churn", random_state=0).fit(df)
    assert type(anon.synthesizer_).__name__ == "GaussianCopulaSynthesizer"  # DP default
    dp = anon.safeguards()["differential_privacy"]
    assert dp["epsilon"] <= 3.0 + 1e-9 and 0 < dp["delta"] < 1 / len(anon.train_)
    assert anon.rare_merged_ == {} and anon.bounds_ == {}  # the DP domain does this privately
    out = anon.sample(2000, random_state=0)
    assert anon.stats_["replaced"] == 0  # no post-hoc look at the real rows
    assert out["email"].str.fullmatch(r"[^@\s]+@example\.(com|org|net)").all()
    assert not out["city"].isin(["Nuuk"]).any()  # a unique value is not released
    assert "differentially private" in anon.safeguards()["wording"]


class _NoPrivacy(tabgen.GaussianCopulaSynthesizer):
    """A user's synthesizer without a differentially private mode (no ``epsilon=``)."""

    def __init__(self, *, random_state=None):
        super().__init__(random_state=random_state)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epsilon": 1.0, "distance_quantile": 0.05}, "breaks the differential-privacy"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"delta": 1e-6}, "only apply with epsilon"),
        ({"epsilon": 1.0, "synthesizer": _NoPrivacy()}, "supported"),
        ({"epsilon": 1.0, "domain": {"nope": [1]}}, "nope"),
    ],
)
def test_differential_privacy_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Anonymizer(**kwargs).fit(_table())


def test_cli_anonymize_with_epsilon(tmp_path, capsys):
    data = tmp_path / "data.csv"
    _table(600).to_csv(data, index=False)
    out = tmp_path / "syn.parquet"
    assert main(["anonymize", str(data), "-o", str(out), "--epsilon", "2", "-n", "100"]) == 0
    text = capsys.readouterr().out
    assert "fitted copula" in text and "differential privacy: epsilon 2" in text
    assert len(tabgen.read_table(out)) == 100
