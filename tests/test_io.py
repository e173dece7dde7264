"""Table I/O and streamed sampling."""

from __future__ import annotations

import pandas as pd
import pytest

import tabgen


@pytest.fixture(scope="module")
def model():
    df = tabgen.datasets.load_adult().head(3000)
    return tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.parquet"])
def test_write_read_round_trip(tmp_path, name):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ['x, "y"', "日本", None], "c": [0.5, None, 2.0]})
    path = tabgen.write_table(df, tmp_path / name)
    back = tabgen.read_table(path)
    assert back.shape == df.shape
    assert (
        back["b"].iloc[0] == 'x, "y"' and back["b"].iloc[1] == "日本" and pd.isna(back["b"].iloc[2])
    )


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        tabgen.read_table(tmp_path / "none.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(ValueError, match="cannot tell the format"):
        tabgen.read_table(tmp_path / "x.txt")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="cannot read"):
        tabgen.read_table(tmp_path / "bad.parquet")


@pytest.mark.parametrize("name", ["s.parquet", "s.csv"])
def test_sample_to_file_streams_in_batches(tmp_path, model, monkeypatch, name):
    sizes = []
    original = model._sample_frame

    def spy(n, *args, **kwargs):
        sizes.append(n)
        return original(n, *args, **kwargs)

    monkeypatch.setattr(model, "_sample_frame", spy)
    path = tabgen.sample_to_file(model, tmp_path / name, 2500, batch_size=1000, random_state=3)
    assert sizes == [1000, 1000, 500]  # memory bounded by the batch, not by n
    out = tabgen.read_table(path)
    assert len(out) == 2500 and list(out.columns) == model.columns_
    again = tabgen.sample_to_file(
        model, tmp_path / ("2" + name), 2500, batch_size=1000, random_state=3
    )
    pd.testing.assert_frame_equal(tabgen.read_table(again), out)
    assert not list(tmp_path.glob("*.partial"))


def test_sample_to_file_with_conditions_and_ids(tmp_path):
    df = pd.DataFrame({"user_id": range(100), "g": ["a", "b"] * 50, "v": range(100)})
    model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
    path = tabgen.sample_to_file(
        model, tmp_path / "c.csv", 250, batch_size=100, conditions={"g": "b"}, random_state=0
    )
    out = tabgen.read_table(path)
    assert (out["g"] == "b").all()
    assert out["user_id"].is_unique and out["user_id"].min() >= 100  # ids unique across batches


def test_sample_to_file_validates(tmp_path, model):
    with pytest.raises(ValueError, match="positive"):
        tabgen.sample_to_file(model, tmp_path / "x.csv", 0)
    with pytest.raises(ValueError, match="batch_size"):
        tabgen.sample_to_file(model, tmp_path / "x.csv", 10, batch_size=0)
    with pytest.raises(ValueError, match="format"):
        tabgen.sample_to_file(model, tmp_path / "x.json", 10)
