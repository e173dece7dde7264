"""Progress bars, ``verbose`` everywhere, and one vocabulary (``schema=``, loss tables)."""

import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest

import tabgen
from tabgen._progress import watch
from tabgen.pipelines import Anonymizer, SyntheticImputer, SyntheticOverSampler


def _table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {"x": x, "y": 2 * x + rng.normal(scale=0.1, size=n), "c": rng.choice(list("ab"), n)}
    )


def test_verbose_fit_shows_a_bar_with_the_loss_and_leaves_logging_alone(capfd):
    logger = logging.getLogger("tabgen")
    level, handlers = logger.level, list(logger.handlers)
    tabgen.VAESynthesizer(epochs=3, batch_size=64, verbose=True, random_state=0).fit(_table())
    err = capfd.readouterr().err
    assert "3/3" in err and "epoch" in err and "loss=" in err
    assert logger.level == level and logger.handlers == handlers


def test_quiet_fit_prints_nothing(capfd):
    tabgen.VAESynthesizer(epochs=2, batch_size=64, random_state=0).fit(_table())
    out = capfd.readouterr()
    assert out.err == "" and out.out == ""


def test_gan_bar_shows_both_networks(capfd):
    tabgen.GANSynthesizer(epochs=2, batch_size=60, verbose=True, random_state=0).fit(_table())
    err = capfd.readouterr().err
    assert "generator=" in err and "critic=" in err


def test_sample_to_file_bar_follows_the_flag(tmp_path, capfd):
    model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(_table())
    capfd.readouterr()
    tabgen.sample_to_file(model, tmp_path / "a.csv", 300, batch_size=100, random_state=0)
    assert capfd.readouterr().err == ""
    tabgen.sample_to_file(
        model, tmp_path / "b.csv", 300, batch_size=100, random_state=0, verbose=True
    )
    err = capfd.readouterr().err
    assert "300/300" in err and "row" in err


@pytest.mark.parametrize(
    "make",
    [
        lambda v: SyntheticImputer(synthesizer=tabgen.VAESynthesizer(epochs=2), verbose=v),
        lambda v: Anonymizer(synthesizer=tabgen.VAESynthesizer(epochs=2), verbose=v),
    ],
)
def test_pipelines_pass_verbose_to_their_synthesizer(make, capfd):
    frame = _table()
    frame.loc[:5, "y"] = np.nan
    make(False).fit(frame)
    assert "epoch" not in capfd.readouterr().err
    fitted = make(True).fit(frame)
    assert "epoch" in capfd.readouterr().err
    assert fitted.synthesizer.verbose is False  # the caller's object is not changed


def test_oversampler_accepts_verbose(capfd):
    frame = _table()
    y = np.where(np.arange(len(frame)) < 20, "rare", "common")
    sampler = SyntheticOverSampler(
        synthesizer=tabgen.VAESynthesizer(epochs=2), verbose=True, random_state=0
    )
    sampler.fit_resample(frame, y)
    assert "epoch" in capfd.readouterr().err
    assert sampler.get_params()["verbose"] is True


def test_anonymizer_takes_its_synthesizer_by_keyword_only():
    with pytest.raises(TypeError):
        Anonymizer(tabgen.GaussianCopulaSynthesizer())


def test_schema_accepts_a_schema_a_dict_and_a_json_file(tmp_path):
    frame = _table()
    frame["k"] = np.arange(len(frame)) % 3
    want = tabgen.GaussianCopulaSynthesizer(schema={"k": "categorical"}, random_state=0).fit(frame)
    assert want.schema_["k"].kind == "categorical"
    full = want.schema_
    dict_file = tmp_path / "kinds.json"
    dict_file.write_text(json.dumps({"k": "categorical"}))
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(full.to_json())
    for form in (full, full.to_dict(), str(dict_file), schema_file):
        got = tabgen.GaussianCopulaSynthesizer(schema=form, random_state=0).fit(frame)
        assert got.schema_.kinds == full.kinds, form
        pd.testing.assert_frame_equal(
            got.sample(50, random_state=1), want.sample(50, random_state=1)
        )


def test_schema_errors_name_the_problem(tmp_path):
    frame = _table()
    with pytest.raises(FileNotFoundError, match=r"nope\.json"):
        tabgen.GaussianCopulaSynthesizer(schema=str(tmp_path / "nope.json")).fit(frame)
    with pytest.raises(TypeError, match="schema must be a dict"):
        tabgen.GaussianCopulaSynthesizer(schema=3).fit(frame)


def test_evaluate_takes_schema_and_warns_on_metadata(tmp_path):
    real = _table()
    path = tmp_path / "kinds.json"
    path.write_text(json.dumps({"c": "categorical"}))
    a = tabgen.evaluate(real, real, schema=str(path), metrics=["fidelity"])
    with pytest.warns(FutureWarning, match="schema="):
        b = tabgen.evaluate(real, real, metadata={"c": "categorical"}, metrics=["fidelity"])
    assert (a.scores["shape"], a.scores["trend"]) == (b.scores["shape"], b.scores["trend"])
    fitted = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(real)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tabgen.evaluate(real, real, schema=fitted.schema_, metrics=["fidelity"])


@pytest.mark.parametrize(
    "model, columns",
    [
        (tabgen.GANSynthesizer(epochs=3, batch_size=60), ["epoch", "generator", "critic"]),
        (tabgen.VAESynthesizer(epochs=3, batch_size=60), ["epoch", "loss"]),
        (tabgen.DiffusionSynthesizer(epochs=3, batch_size=60), ["epoch", "loss"]),
    ],
)
def test_get_loss_values_is_a_table_per_network(model, columns):
    model.set_params(random_state=0).fit(_table())
    table = model.get_loss_values()
    assert list(table.columns) == columns
    assert table["epoch"].tolist() == [1, 2, 3]
    assert table[columns[1:]].notna().all().all()
    assert table[columns[1]].tolist() == model.loss_history_


def test_watch_follows_training_runs_of_this_thread_and_hides_dp_losses():
    seen = []
    df = _table()
    with watch(seen.append):
        tabgen.VAESynthesizer(epochs=3, random_state=0).fit(df)
    assert [p.epoch for p in seen] == [1, 2, 3] and all(p.loss for p in seen)
    tabgen.VAESynthesizer(epochs=2, random_state=0).fit(df)
    assert len(seen) == 3  # the block has ended
    from tabgen._progress import watchers
    from tabgen.nn.trainer import Progress

    hook = watchers(show_loss=False)
    assert hook == []
    with watch(seen.append):
        (hook,) = watchers(show_loss=False)
    hook(Progress("m", 1, 2, 3, {"loss": 1.0}, 0.1, False))
    assert seen[-1].loss == {} and seen[-1].epoch == 1


def test_watch_sees_only_its_own_thread_and_no_dp_losses():
    import threading

    pytest.importorskip("opacus")
    mine, other = [], []
    started, done = threading.Event(), threading.Event()

    def elsewhere():
        with watch(other.append):
            started.set()
            done.wait(60)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    started.wait(60)
    try:
        with watch(mine.append):
            tabgen.VAESynthesizer(epsilon=3.0, epochs=2, random_state=0).fit(_table())
    finally:
        done.set()
        thread.join()
    assert [p.epoch for p in mine] == [1, 2] and all(p.loss == {} for p in mine)
    assert other == []


# -- a single large sample() and the imputer's transform ---------------------------------------
class _Recorder:
    """Stands in for the tqdm bar: records each update."""

    def __init__(self, seen):
        self.seen = seen

    def update(self, n=1):
        self.seen.append(n)

    def close(self):
        pass


@pytest.mark.parametrize(("name", "n"), [("vae", 45_000), ("diffusion", 40_000)])
def test_a_large_sample_shows_a_bar_fed_by_the_models_loops(name, n, capfd, monkeypatch):
    """The VAE advances it by its chunks of rows, diffusion by its chunks of 16,384 rows
    (the distilled sampler; the ODE solvers by their steps), without the candidate
    selection, whose chunks of 50,000 kept rows would count instead."""
    from tabgen import _progress

    cls = tabgen.get_synthesizer(name)
    params = {**cls._test_params(), "epochs": 1, "postprocess": ("dependencies",)}
    if name == "diffusion":  # the student's chunks, whatever a fit's check would choose
        params["sampler"] = "distilled"
    model = cls(**params, random_state=0).fit(_table(300))
    quiet = model.sample(n, random_state=1)
    capfd.readouterr()
    model.set_params(verbose=True)
    loud = model.sample(n, random_state=1)
    err = capfd.readouterr().err
    assert f"{n}/{n}" in err and "sampling" in err and "row" in err
    pd.testing.assert_frame_equal(quiet, loud)  # the bar changes no row
    seen = []
    monkeypatch.setattr(_progress, "bar", lambda *a, **k: _Recorder(seen))
    again = model.sample(n, random_state=1)
    pd.testing.assert_frame_equal(quiet, again)
    assert sum(seen) == n and len(seen) >= 2 and max(seen) < n  # advanced as rows came
    seen.clear()
    model.sample(_progress.SAMPLE_BAR_ROWS - 1, random_state=1)
    assert seen == []  # a small sample shows no bar


def test_sample_to_file_shows_one_bar_not_one_per_batch(tmp_path, monkeypatch):
    from tabgen import _progress

    model = tabgen.VAESynthesizer(epochs=1, batch_size=64, verbose=True, random_state=0)
    model.fit(_table())
    made = []
    monkeypatch.setattr(_progress, "bar", lambda *a, **k: made.append(a) or _Recorder([]))
    tabgen.sample_to_file(model, tmp_path / "a.csv", 30_000, batch_size=15_000, random_state=0)
    assert made == [(30_000,)]


def test_imputer_transform_shows_a_bar_in_columns(capfd):
    holes = _table(200)
    holes.loc[::5, "x"] = np.nan
    holes.loc[1::7, "c"] = None
    quiet = SyntheticImputer(random_state=0).fit(holes).transform(holes)
    capfd.readouterr()
    imputer = SyntheticImputer(random_state=0, verbose=True).fit(holes)
    capfd.readouterr()
    loud = imputer.transform(holes)
    err = capfd.readouterr().err
    chain = imputer.chained_
    n = len(chain.order) * (1 + len(getattr(chain, "rounds", [])))  # first pass and rounds
    assert "imputing" in err and f"{n}/{n}" in err and "column" in err
    pd.testing.assert_frame_equal(quiet, loud)
