"""tabgen.relational: metadata, the database synthesizer, its model file, metrics and CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.metrics import (
    cardinality_shape,
    evaluate_database,
    key_integrity,
    parent_child_trends,
)
from tabgen.persistence import ModelFileError
from tabgen.relational import Metadata, RelationalSynthesizer


def _rel(parent, pk, child, fk, **extra):
    return {
        "parent_table": parent,
        "parent_primary_key": pk,
        "child_table": child,
        "child_foreign_key": fk,
        **extra,
    }


def shop(n_users: int = 60, seed: int = 0):
    """Users (some without orders; the richer order more and pricier), their orders."""
    rng = np.random.default_rng(seed)
    income = rng.gamma(2.0, 1.0, n_users)
    users = pd.DataFrame(
        {
            "user_id": np.arange(100, 100 + n_users),
            "income": income.round(3),
            "tier": np.where(income > 2.0, "gold", "basic"),
        }
    )
    counts = rng.poisson(np.where(income > 1.0, 4.0, 0.3))
    owner = np.repeat(users["user_id"].to_numpy(), counts)
    n = len(owner)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(n),
            "user_id": owner,
            "amount": (np.repeat(income, counts) * 10 + rng.normal(0, 1, n)).round(2),
            "paid": rng.choice(["card", "cash"], n),
        }
    )
    meta = Metadata(
        {"users": {"primary_key": "user_id"}, "orders": {"primary_key": "order_id"}},
        [_rel("users", "user_id", "orders", "user_id")],
    )
    return {"users": users, "orders": orders}, meta


def _fk_ok(child, fk, parent, pk):
    return child[fk].isin(parent[pk]).all()


# -- metadata -----------------------------------------------------------------------------------
def test_metadata_json_round_trip_and_shared_layout(tmp_path):
    _, meta = shop()
    path = meta.save(tmp_path / "m.json")
    assert Metadata.load(path) == meta
    with pytest.raises(FileExistsError):
        meta.save(path)
    shared = {
        "tables": {
            "users": {"file": "users.csv.gz", "primary_key": "user_id", "columns": {}},
            "orders": {"file": "orders.csv.gz", "primary_key": "order_id"},
        },
        "relationships": [_rel("users", "user_id", "orders", "user_id")],
    }
    loaded = Metadata.from_dict(shared)
    assert loaded.to_dict()["tables"]["users"]["file"] == "users.csv.gz"
    assert [r.name for r in loaded.children("users")] == ["users->orders.user_id"]


def test_detect_guesses_keys_relationships_and_order():
    tables, _ = shop()
    visits = pd.DataFrame(
        {
            "visit_id": np.arange(40),
            "user_id": np.repeat(tables["users"]["user_id"].to_numpy()[:10], 4),
            "day": np.tile([0, 5, 9, 30], 10),
            "score": np.random.default_rng(0).normal(size=40),
        }
    )
    meta = Metadata.detect({**tables, "visits": visits}, verbose=False)
    assert meta.primary_key("users") == "user_id"
    assert meta.primary_key("orders") == "order_id"
    assert sorted(r.name for r in meta.relationships) == [
        "users->orders.user_id",
        "users->visits.user_id",
    ]
    assert meta.order_by("visits") == "day"
    assert meta.order_by("orders") is None


@pytest.mark.parametrize(
    "tables, relationships, match",
    [
        (
            {"a": {"primary_key": "id"}},
            [_rel("a", "id", "a", "parent_id")],
            "references itself",
        ),
        (
            {"a": {"primary_key": ["k1", "k2"]}},
            [],
            "composite keys are not supported",
        ),
        (
            {"a": {"primary_key": "id"}, "b": {"primary_key": "id"}},
            [_rel("a", "id", "b", "a_id"), _rel("b", "id", "a", "b_id")],
            "cycle",
        ),
        (
            {"a": {"primary_key": "id"}},
            [_rel("a", "id", "nope", "a_id")],
            "'nope' is not in the metadata",
        ),
        (
            {"a": {"primary_key": "id"}, "b": {"primary_key": "bid"}},
            [_rel("a", "other", "b", "a_id")],
            "not the primary key",
        ),
    ],
)
def test_bad_metadata_is_refused(tables, relationships, match):
    with pytest.raises(ValueError, match=match):
        Metadata(tables, relationships)


def test_validate_names_table_column_and_count():
    tables, meta = shop()
    orders = tables["orders"]
    bad = orders.copy()
    bad.loc[:2, "user_id"] = -5
    with pytest.raises(
        ValueError, match=r"table 'orders': 3 row\(s\) have a foreign key 'user_id'"
    ):
        meta.validate({**tables, "orders": bad})
    cleaned = meta.validate({**tables, "orders": bad}, drop_orphans=True)
    assert len(cleaned["orders"]) == len(orders) - 3
    assert bad.loc[0, "user_id"] == -5  # the caller's frame is untouched
    dup = tables["users"].copy()
    dup.loc[1, "user_id"] = dup.loc[0, "user_id"]
    with pytest.raises(ValueError, match="table 'users': primary key 'user_id' has 1 duplicate"):
        meta.validate({**tables, "users": dup})
    with pytest.raises(ValueError, match=r"\['orders'\] are in the metadata but not in the data"):
        meta.validate({"users": tables["users"]})
    nulls = orders.astype({"user_id": "float64"})
    nulls.loc[0, "user_id"] = np.nan
    with pytest.raises(ValueError, match=r"'user_id' has 1 missing value.*not nullable"):
        meta.validate({**tables, "orders": nulls})
    with pytest.raises(ValueError, match="lacks column"):
        meta.validate({**tables, "orders": orders.drop(columns="user_id")})


# -- synthesizer --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_shop():
    tables, meta = shop()
    return tables, meta, RelationalSynthesizer(meta, random_state=0).fit(tables)


def test_keys_fresh_and_valid_with_childless_parents(fitted_shop):
    tables, meta, synth = fitted_shop
    fake = synth.sample(scale=2.0, random_state=1)
    users, orders = fake["users"], fake["orders"]
    assert len(users) == 2 * len(tables["users"])
    assert list(users.columns) == list(tables["users"].columns)
    assert users["user_id"].is_unique and orders["order_id"].is_unique
    assert _fk_ok(orders, "user_id", users, "user_id")
    assert not users["user_id"].isin(tables["users"]["user_id"]).all()  # fresh, not copied
    childless = ~users["user_id"].isin(orders["user_id"])
    assert 0 < childless.mean() < 1
    assert key_integrity(fake, meta)["key_integrity"] == 1.0
    # the parent's attributes shape its children: rich users order more and pricier
    per_user = orders.groupby("user_id")["amount"].mean()
    income = users.set_index("user_id")["income"].reindex(per_user.index)
    assert np.corrcoef(income, per_user)[0, 1] > 0.5
    assert cardinality_shape(tables, fake, meta)["cardinality_shape"] > 0.7


def test_sample_is_reproducible_and_checks_scale(fitted_shop):
    _, _, synth = fitted_shop
    a, b = synth.sample(random_state=3), synth.sample(random_state=3)
    assert all(a[t].equals(b[t]) for t in a)
    with pytest.raises(ValueError, match="scale must be a positive number"):
        synth.sample(scale=0)


def test_not_fitted_and_reserved_names():
    tables, meta = shop()
    with pytest.raises(tabgen.relational.synthesizer.NotFittedError):
        RelationalSynthesizer(meta).sample()
    bad = {**tables, "users": tables["users"].assign(__tg_x=1.0)}
    with pytest.raises(ValueError, match="reserved"):
        RelationalSynthesizer(meta).fit(bad)
    with pytest.raises(ValueError, match="aggregates must be an integer"):
        RelationalSynthesizer(meta, aggregates=-1).fit(tables)


def test_child_model_must_take_row_conditions():
    tables, meta = shop()
    with pytest.raises(ValueError, match=r"table 'orders' has a parent.*GANSynthesizer"):
        RelationalSynthesizer(meta, model={"orders": "gan"}, random_state=0).fit(tables)


def clinic(n_patients: int = 50, seed: int = 1):
    """Patients and their visits, ordered by day; a marker drifts along each sequence."""
    rng = np.random.default_rng(seed)
    patients = pd.DataFrame({"pid": np.arange(n_patients), "age": rng.integers(20, 80, n_patients)})
    counts = rng.integers(0, 6, n_patients)
    owner = np.repeat(patients["pid"], counts).to_numpy()
    steps = rng.integers(20, 60, len(owner))
    day = pd.Series(steps).groupby(owner).cumsum().to_numpy() - steps
    visits = pd.DataFrame(
        {
            "vid": np.arange(len(owner)),
            "pid": owner,
            "day": day,
            "marker": (day / 50.0 + rng.normal(0, 0.1, len(owner))).round(3),
        }
    )
    meta = Metadata(
        {"patients": {"primary_key": "pid"}, "visits": {"primary_key": "vid", "order_by": "day"}},
        [_rel("patients", "pid", "visits", "pid")],
    )
    return {"patients": patients, "visits": visits}, meta


def test_sequences_are_monotone_within_parent():
    tables, meta = clinic()
    visits = tables["visits"]
    synth = RelationalSynthesizer(meta, random_state=0).fit(tables)
    fake = synth.sample(random_state=2)["visits"]
    assert fake["day"].dtype == visits["day"].dtype
    assert (fake.groupby("pid")["day"].diff().dropna() >= 0).all()
    first = fake.groupby("pid")["day"].transform("min") == fake["day"]
    assert fake.loc[first, "day"].max() <= 10  # sequences start near day 0, as learnt
    # consecutive-row dependence: the marker grows along a sequence
    assert np.corrcoef(fake["day"], fake["marker"])[0, 1] > 0.5


def test_two_parent_child_and_three_level_chain():
    rng = np.random.default_rng(2)
    students = pd.DataFrame({"sid": np.arange(40), "age": rng.integers(18, 30, 40)})
    teachers = pd.DataFrame({"tid": np.arange(15), "dept": rng.choice(["a", "b", "c"], 15)})
    n = 200
    ratings = pd.DataFrame(
        {
            "rid": np.arange(n),
            "sid": rng.integers(0, 40, n),
            "tid": rng.integers(0, 15, n),
            "score": rng.integers(1, 6, n),
        }
    )
    regions = pd.DataFrame({"region_id": np.arange(5)})
    schools = pd.DataFrame({"school_id": np.arange(20), "region_id": rng.integers(0, 5, 20)})
    pupils = pd.DataFrame(
        {
            "pupil_id": np.arange(150),
            "school_id": rng.integers(0, 20, 150),
            "grade": rng.normal(size=150).round(2),
        }
    )
    meta = Metadata(
        {
            "students": {"primary_key": "sid"},
            "teachers": {"primary_key": "tid"},
            "ratings": {"primary_key": "rid"},
            "regions": {"primary_key": "region_id"},
            "schools": {"primary_key": "school_id"},
            "pupils": {"primary_key": "pupil_id"},
        },
        [
            _rel("students", "sid", "ratings", "sid"),
            _rel("teachers", "tid", "ratings", "tid"),
            _rel("regions", "region_id", "schools", "region_id"),
            _rel("schools", "school_id", "pupils", "school_id"),
        ],
    )
    tables = {
        "students": students,
        "teachers": teachers,
        "ratings": ratings,
        "regions": regions,
        "schools": schools,
        "pupils": pupils,
    }
    synth = RelationalSynthesizer(meta, random_state=0).fit(tables)
    fake = synth.sample(random_state=0)
    assert _fk_ok(fake["ratings"], "sid", fake["students"], "sid")
    assert _fk_ok(fake["ratings"], "tid", fake["teachers"], "tid")
    assert _fk_ok(fake["schools"], "region_id", fake["regions"], "region_id")
    assert _fk_ok(fake["pupils"], "school_id", fake["schools"], "school_id")
    assert len(fake["pupils"]) > 50 and fake["pupils"]["grade"].notna().all()
    assert key_integrity(fake, meta)["key_integrity"] == 1.0
    # the second parent's share of children follows its learnt counts (not all on one)
    assert fake["ratings"]["tid"].nunique() > 5


def test_nullable_foreign_key():
    tables, _ = shop()
    orders = tables["orders"].astype({"user_id": "float64"})
    orders.loc[orders.index[::5], "user_id"] = np.nan
    meta = Metadata(
        {"users": {"primary_key": "user_id"}, "orders": {"primary_key": "order_id"}},
        [_rel("users", "user_id", "orders", "user_id", nullable=True)],
    )
    fake = (
        RelationalSynthesizer(meta, random_state=0)
        .fit({**tables, "orders": orders})
        .sample(random_state=0)
    )
    fk = fake["orders"]["user_id"]
    assert fk.isna().any() and fk.dropna().isin(fake["users"]["user_id"]).all()
    assert key_integrity(fake, meta)["key_integrity"] == 1.0


def test_save_load_round_trip_and_tampering(fitted_shop, tmp_path):
    _, _, synth = fitted_shop
    path = tmp_path / "db.tabgen"
    synth.save(path)
    with pytest.raises(FileExistsError):
        synth.save(path)
    loaded = tabgen.load(path)
    assert isinstance(loaded, RelationalSynthesizer)
    a, b = synth.sample(random_state=7), loaded.sample(random_state=7)
    assert all(a[t].equals(b[t]) for t in a)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    (tmp_path / "bad.tabgen").write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="checksum"):
        tabgen.load(tmp_path / "bad.tabgen")


# -- metrics ------------------------------------------------------------------------------------
def test_metrics_see_broken_keys_and_wrong_cardinality():
    tables, meta = shop()
    orders = tables["orders"].copy()
    orders.loc[:9, "user_id"] = -1
    broken = {**tables, "orders": orders}
    assert key_integrity(broken, meta)["key_integrity"] < 1.0
    one_user = {**tables, "orders": tables["orders"].assign(user_id=100)}
    assert cardinality_shape(tables, one_user, meta)["cardinality_shape"] < 0.5
    same = parent_child_trends(tables, tables, meta)["parent_child_trend"]
    shuffled = tables["orders"].assign(
        amount=tables["orders"]["amount"].sample(frac=1, random_state=0).to_numpy()
    )
    other = parent_child_trends(tables, {**tables, "orders": shuffled}, meta)
    assert same == 1.0 and other["parent_child_trend"] < same


def test_evaluate_database_report(fitted_shop, tmp_path):
    tables, meta, synth = fitted_shop
    report = evaluate_database(tables, synth.sample(random_state=0), meta.to_dict(), n_jobs=1)
    scores = report.scores
    assert scores["key_integrity"] == 1.0
    for key in (
        "cardinality_shape",
        "parent_child_trend",
        "aggregate_detection_gb_auc",
        "users.shape",
        "orders.trend",
        "users->orders.user_id.exact_copy_rate",
    ):
        assert 0.0 <= scores[key] <= 1.0, key
    assert "shape" not in scores  # no single-table placeholders
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert data["scores"]["key_integrity"] == 1.0
    assert "key_integrity" in report.to_html(tmp_path / "r.html").read_text()


# -- shared data --------------------------------------------------------------------------------
def test_math_schools_from_shared_data(shared_data_dir):
    folder = shared_data_dir / "relational" / "math_schools"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    meta = Metadata.load(folder / "metadata.json")
    tables = {t: pd.read_csv(folder / f"{t}.csv.gz") for t in meta.tables}
    fake = RelationalSynthesizer(meta, random_state=0).fit(tables).sample(random_state=0)
    assert key_integrity(fake, meta)["key_integrity"] == 1.0
    assert cardinality_shape(tables, fake, meta)["cardinality_shape"] > 0.85
    assert set(fake["students"]["Sex"]) <= set(tables["students"]["Sex"])


# -- CLI ----------------------------------------------------------------------------------------
def test_cli_fit_db_sample_db_round_trip(tmp_path, capsys):
    from tabgen.cli import main

    tables, meta = shop()
    folder = tmp_path / "db"
    folder.mkdir()
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    meta.save(tmp_path / "meta.json")
    model = tmp_path / "db.tabgen"
    argv = ["fit-db", str(folder), "--metadata", str(tmp_path / "meta.json"), "-o", str(model)]
    assert main([*argv, "-q"]) == 0
    assert main([*argv, "-q"]) == 1  # the model file exists: refused without --overwrite
    assert "--overwrite" in capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["sample-db", str(model), "-o", str(out), "--scale", "2", "-q"]) == 0
    users = pd.read_csv(out / "users.csv")
    orders = pd.read_csv(out / "orders.csv")
    assert len(users) == 2 * len(tables["users"])
    assert _fk_ok(orders, "user_id", users, "user_id")
    assert main(["sample-db", str(model), "-o", str(out), "-q"]) == 1
    assert main(["sample-db", str(model), "-o", str(out), "--format", "parquet", "-q"]) == 0
    assert len(pd.read_parquet(out / "users.parquet")) == len(tables["users"])
    assert (
        main(
            [
                "evaluate-db",
                str(folder),
                str(out),
                "--metadata",
                str(tmp_path / "meta.json"),
                "-o",
                str(tmp_path / "report.json"),
                "-q",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["scores"]["key_integrity"] == 1.0
    assert main(["info", str(model)]) == 0
    assert "users->" not in capsys.readouterr().err
    # without metadata the keys are detected
    assert main(["fit-db", str(folder), "-o", str(tmp_path / "d.tabgen"), "-q"]) == 0
    assert main(["fit-db", str(folder), "-o", str(tmp_path / "e.tabgen"), "-m", "nope"]) == 2


# -- anonymizer ---------------------------------------------------------------------------------
def test_database_anonymizer_holds_out_whole_entities():
    from tabgen.relational import DatabaseAnonymizer, split_by_root

    tables, meta = shop(n_users=80)
    users = tables["users"].assign(email=[f"user{i}@mail.com" for i in range(80)])
    tables = {**tables, "users": users}
    train, held = split_by_root(meta, tables, "users", 0.25, np.random.default_rng(0))
    assert len(held["users"]) == 20 and len(train["users"]) == 60
    assert held["orders"]["user_id"].isin(held["users"]["user_id"]).all()
    assert train["orders"]["user_id"].isin(train["users"]["user_id"]).all()
    assert len(train["orders"]) + len(held["orders"]) == len(tables["orders"])
    anon = DatabaseAnonymizer(meta, holdout=0.25, random_state=0).fit(tables)
    assert anon.pii_columns_["users"] == {"email": "email"}
    fake = anon.export(n_jobs=1, detection_metrics=False)
    assert list(fake["users"].columns) == list(users.columns)
    assert not fake["users"]["email"].isin(users["email"]).any()
    assert _fk_ok(fake["orders"], "user_id", fake["users"], "user_id")
    assert 0.0 <= anon.report_.scores["users->orders.user_id.dcr_share"] <= 1.0
    dropped = (
        DatabaseAnonymizer(meta, pii="drop", random_state=0)
        .fit(tables)
        .export(n_jobs=1, detection_metrics=False)
    )
    assert "email" not in dropped["users"].columns
    with pytest.raises(ValueError, match="holdout"):
        DatabaseAnonymizer(meta, holdout=1.5).fit(tables)


def test_calibration_matches_counts_and_family_shares():
    rng = np.random.default_rng(3)
    n = 120
    schools = pd.DataFrame({"school_id": np.arange(n), "size": rng.integers(100, 900, n)})
    single = rng.random(n) < 0.4  # single-sex schools: every pupil of one sex
    counts = rng.integers(3, 12, n)
    owner = np.repeat(np.arange(n), counts)
    sex = np.where(np.repeat(single, counts), "F", rng.choice(["F", "M"], len(owner)))
    pupils = pd.DataFrame(
        {
            "pupil_id": np.arange(len(owner)),
            "school_id": owner,
            "sex": sex,
            "score": (rng.normal(0, 1, len(owner)) + np.repeat(rng.normal(0, 2, n), counts)),
        }
    )
    tables = {"schools": schools, "pupils": pupils}
    meta = Metadata(
        {"schools": {"primary_key": "school_id"}, "pupils": {"primary_key": "pupil_id"}},
        [_rel("schools", "school_id", "pupils", "school_id")],
    )

    def single_sex_share(fake):
        by_school = fake["pupils"].groupby("school_id")["sex"].nunique()
        return float((by_school == 1).mean())

    on = RelationalSynthesizer(meta, random_state=0).fit(tables).sample(random_state=0)
    off = RelationalSynthesizer(meta, calibrate=False, random_state=0).fit(tables)
    off = off.sample(random_state=0)
    assert cardinality_shape(tables, on, meta)["cardinality_shape"] == 1.0
    real = single_sex_share(tables)
    assert abs(single_sex_share(on) - real) < 0.1
    assert abs(single_sex_share(on) - real) < abs(single_sex_share(off) - real)
    spread = on["pupils"].groupby("school_id")["score"].mean().std()
    assert spread > 1.4  # the schools' own levels survive (real: about 2)


def test_rank_map_keeps_order_and_missing_and_takes_reference_values():
    from tabgen.relational._calibrate import rank_map

    values = pd.Series([3.0, 1.0, np.nan, 2.0, 2.0, 5.0])
    reference = pd.Series([10.0, 40.0, np.nan, 20.0, 30.0, 50.0, 60.0])
    out = rank_map(values, reference, None)
    assert np.isnan(out[2])
    got = out[~np.isnan(out)]
    assert set(got) <= {10.0, 20.0, 30.0, 40.0, 50.0, 60.0}
    # same order as the values; tied values in row order (rng=None): non-decreasing
    assert out[1] < out[3] <= out[4] < out[0] < out[5]
    assert values.isna().sum() == 1  # the input is not modified


def test_marginals_give_child_columns_their_model_shape():
    from tabgen.metrics import column_shapes

    tables, meta = shop(n_users=150, seed=4)
    kwargs = {"random_state": 0, "calibrate": False}
    on = RelationalSynthesizer(meta, **kwargs).fit(tables).sample(random_state=1)
    off = RelationalSynthesizer(meta, marginals=False, **kwargs).fit(tables)
    off = off.sample(random_state=1)

    def shape(fake):
        real = tables["orders"][["amount"]]
        return float(column_shapes(real, fake["orders"][["amount"]])["score"].iloc[0])

    assert shape(on) > shape(off)
    assert shape(on) > 0.9
    # the dependence on the parent survives the map: richer users, pricier orders
    joined = on["orders"].merge(on["users"], on="user_id")
    assert np.corrcoef(joined["income"], joined["amount"])[0, 1] > 0.5
    assert key_integrity(on, meta)["key_integrity"] == 1.0


def test_iter_sample_yields_the_tables_of_sample_parents_first(fitted_shop):
    _, _, synth = fitted_shop
    whole = synth.sample(scale=0.5, random_state=3)
    streamed = list(synth.iter_sample(scale=0.5, random_state=3))
    assert [t for t, _ in streamed] == synth.metadata_.order()
    for table, frame in streamed:
        pd.testing.assert_frame_equal(frame, whole[table])
    with pytest.raises(ValueError, match="scale"):
        synth.iter_sample(scale=0)  # checked at the call, not at the first table


def test_database_anonymizer_safeguards_count_copies_and_held_out_rows():
    from tabgen.relational import DatabaseAnonymizer

    tables, meta = shop(n_users=80, seed=5)
    anon = DatabaseAnonymizer(meta, holdout=0.25, random_state=0).fit(tables)
    guards = anon.safeguards()
    assert guards["root"] == "users" and guards["held_out_rows"]["users"] == 20
    assert "exact_copies" not in guards  # measured at export
    fake = anon.export(n_jobs=1, detection_metrics=False)
    guards = anon.safeguards()
    assert set(guards["exact_copies"]) == {"users", "orders"}
    assert all(0 <= n <= len(fake[t]) for t, n in guards["exact_copies"].items())
    # a copy of the training rows is counted as such
    from tabgen.relational.anonymizer import _copies

    train = anon._train["orders"][["amount", "paid"]]
    assert _copies(train.head(7), train) == 7
    assert _copies(train.assign(amount=train["amount"] + 1e6).head(7), train) == 0


def test_match_levels_changes_fewest_cells_to_reach_the_shares():
    from tabgen.relational._calibrate import match_levels

    rng = np.random.default_rng(0)
    values = pd.Series(["a"] * 70 + ["b"] * 30 + [None] * 5)
    reference = pd.Series(["a"] * 50 + ["b"] * 40 + ["c"] * 10)
    out = match_levels(values, reference, rng)
    assert out.isna().sum() == 5 and out[values.isna()].isna().all()
    assert out.value_counts().to_dict() == {"a": 50, "b": 40, "c": 10}
    assert int((out != values)[values.notna()].sum()) == 20  # only the 20 surplus "a"
    assert (out[values == "b"] == "b").all()  # under-represented levels are kept
    assert values.tolist()[:2] == ["a", "a"]  # the input is not modified


def test_database_report_verdict(fitted_shop):
    tables, meta, synth = fitted_shop
    fake = synth.sample(random_state=4)
    report = evaluate_database(tables, fake, meta, privacy_metrics=False, n_jobs=1)
    verdict = report.verdict
    assert verdict["keys"].startswith("every primary key")
    assert set(verdict) == {"keys", "cardinality", "parent_child_trends", "aggregate_detection"}
    fake["orders"].loc[0, "user_id"] = -1  # an orphan
    broken = evaluate_database(tables, fake, meta, privacy_metrics=False, detection_metrics=False)
    assert broken.verdict["keys"].startswith("only")
    assert "aggregate_detection" not in broken.verdict
