"""tabgen.relational: the first-row model of a sequence, the joint match of a child table
to its model's draw, the completion of a generated parent's aggregates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen.relational import Metadata, RelationalSynthesizer
from tabgen.relational import _features as F
from tests.test_relational import clinic, shop


def test_sequence_first_rows_have_their_own_model_and_survive_the_model_file(tmp_path):
    tables, meta = clinic(n_patients=60)
    synth = RelationalSynthesizer(meta, random_state=0).fit(tables)
    first, later = synth.firsts_["visits"], synth.models_["visits"]
    # a first row has no row before it: its model never sees previous-row or step cells
    assert F.START in first.columns_ and F.INDEX not in first.columns_
    assert not [c for c in first.columns_ if c.startswith("__tg_prev.") or c == F.GAP]
    assert F.START not in later.columns_ and "__tg_prev.marker" in later.columns_
    n_first = (tables["visits"].groupby("pid").size() > 0).sum()
    assert len(first.sample(5, random_state=0)) == 5 and n_first >= 2
    path = synth.save(tmp_path / "clinic.tabgen")
    loaded = tabgen.load(path)
    assert sorted(loaded.firsts_) == ["visits"]
    a, b = synth.sample(random_state=4), loaded.sample(random_state=4)
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table])
    fake = a["visits"]
    assert (fake.groupby("pid")["day"].diff().dropna() >= 0).all()
    assert np.corrcoef(fake["day"], fake["marker"])[0, 1] > 0.5


def test_match_rows_pairs_each_row_with_its_copy_in_a_shuffled_reference():
    from tabgen.relational._match import BLOCK, match_rows

    rng = np.random.default_rng(0)
    n = 2 * BLOCK + 37  # several blocks
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.gamma(2.0, 1.0, n),
            "kind": rng.choice(["a", "b", "c"], n),
        }
    )
    frame.loc[frame.index[::9], "y"] = np.nan
    shuffle = rng.permutation(n)
    reference = frame.iloc[shuffle].reset_index(drop=True)
    partner = match_rows(frame, reference, ["x", "y", "kind"], [], rng)
    assert sorted(partner) == list(range(n))  # a permutation: each draw row used once
    got = reference.iloc[partner].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, frame)
    # the parents' context counts too: same own values, the partner with the same context
    twin = pd.DataFrame({"x": np.repeat([0.0, 1.0], 50), "ctx": np.tile([0.0, 5.0], 50)})
    ref = twin.iloc[rng.permutation(100)].reset_index(drop=True)
    pairs = match_rows(twin, ref, ["x"], ["ctx"], rng)
    assert (ref["ctx"].to_numpy()[pairs] == twin["ctx"].to_numpy()).all()


def test_joint_marginals_keep_the_parent_dependence_and_refuse_bad_values():
    tables, meta = shop(n_users=150, seed=4)
    synth = RelationalSynthesizer(meta, random_state=0).fit(tables)
    assert synth.marginals == "joint"
    fake = synth.sample(random_state=1)
    joined = fake["orders"].merge(fake["users"], on="user_id")
    assert np.corrcoef(joined["income"], joined["amount"])[0, 1] > 0.5
    assert set(fake["orders"]["paid"]) <= {"card", "cash"}
    with pytest.raises(ValueError, match=r"marginals must be .*'rows'"):
        RelationalSynthesizer(meta, marginals="rows").fit(tables)


def test_parents_with_children_get_their_missing_aggregates_drawn():
    from tabgen.relational._calibrate import complete_aggregates

    tables, meta = shop(n_users=120, seed=3)
    synth = RelationalSynthesizer(meta, random_state=0).fit(tables)
    rel = meta.relationships[0]
    mean = F.aggregate_name(rel, ["mean", "amount"])
    assert synth.relationships_[rel.name]["missing"][mean] == 0.0  # no order lacks an amount
    frame = synth.models_["users"].sample(200, random_state=1)
    counts = frame[F.count_column(rel)].to_numpy()
    frame.loc[counts > 0, mean] = np.nan
    frame.loc[counts == 0, mean] = np.nan
    before = frame.copy()
    out = complete_aggregates(synth, "users", frame, np.random.default_rng(0))
    assert out.loc[counts > 0, mean].notna().all()
    assert out.loc[counts == 0, mean].isna().all()  # childless parents: left missing
    std = F.aggregate_name(rel, ["std", "amount"])  # missing where fewer than two orders
    share = synth.relationships_[rel.name]["missing"][std]
    two = counts >= 2
    assert out.loc[two, std].isna().sum() == min(
        before.loc[two, std].isna().sum(), round(share * two.sum())
    )
    aggregates = [c for c in frame.columns if c.startswith(("__tg_mean", "__tg_std", "__tg_sh"))]
    for col in aggregates:  # only missing cells are drawn
        assert not (out[col].ne(before[col]) & before[col].notna()).any()
    others = [c for c in frame.columns if c not in aggregates]
    pd.testing.assert_frame_equal(out[others], before[others])
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    low, high = tables["orders"]["amount"].min(), tables["orders"]["amount"].max()
    assert out[mean].dropna().between(low - 1e-9, high + 1e-9).all()


def test_second_parent_is_matched_to_the_rows_drawn_given_the_first():
    from tests.test_relational import _rel

    rng = np.random.default_rng(7)
    students = pd.DataFrame({"sid": np.arange(80), "age": rng.integers(18, 30, 80)})
    teachers = pd.DataFrame({"tid": np.arange(20), "dept": np.repeat(["a", "b"], 10)})
    sid = rng.integers(0, 80, 600)
    young = students["age"].to_numpy()[sid] < 24
    # the young rate the teachers of dept a, the others those of dept b
    tid = np.where(young, rng.integers(0, 10, 600), rng.integers(10, 20, 600))
    ratings = pd.DataFrame(
        {"rid": np.arange(600), "sid": sid, "tid": tid, "score": rng.integers(1, 6, 600)}
    )
    meta = Metadata(
        {
            "students": {"primary_key": "sid"},
            "teachers": {"primary_key": "tid"},
            "ratings": {"primary_key": "rid"},
        },
        [_rel("students", "sid", "ratings", "sid"), _rel("teachers", "tid", "ratings", "tid")],
    )
    tables = {"students": students, "teachers": teachers, "ratings": ratings}
    synth = RelationalSynthesizer(meta, random_state=0).fit(tables)
    assert synth.tables_["ratings"]["match_parents"]

    def agreement(db):
        joined = db["ratings"].merge(db["students"], on="sid").merge(db["teachers"], on="tid")
        return ((joined["age"] < 24) == (joined["dept"] == "a")).mean()

    fake = synth.sample(random_state=1)
    synth.tables_["ratings"]["match_parents"] = False  # dealt at random, as before
    assert agreement(fake) > 0.7 > 0.6 > agreement(synth.sample(random_state=1))
    synth.tables_["ratings"]["match_parents"] = True
    assert fake["ratings"]["tid"].isin(fake["teachers"]["tid"]).all()
