"""Files you can trust: no silent overwrite, inputs never replaced, outputs checked before
any work, writes that an interruption cannot leave half done."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tabgen
import tabgen.io
from tabgen import cli
from tabgen._output import atomic_path, check_output
from tabgen.synthesizers.base import BaseSynthesizer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def frame():
    return tabgen.datasets.load_adult().head(300)


@pytest.fixture(scope="module")
def copula(frame):
    return tabgen.GaussianCopulaSynthesizer(random_state=0).fit(frame)


def _run(script: str, cwd) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh interpreter that imports this checkout's tabgen."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- interrupted writes ---------------------------------------------------------------------
_DIE_IN_TABLE_WRITER = """
    import os, signal, sys
    import numpy as np, pandas as pd
    import tabgen

    path = {path!r}
    n = 60_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame({{"x": rng.normal(size=n), "k": rng.integers(0, 9, n).astype(str)}})

    def dying(writer):
        def write(self, target, *args, **kwargs):
            # write the first half of the rows where tabgen asked, then die (a kill -9)
            writer(self.iloc[: len(self) // 2], target, *args, **kwargs)
            if hasattr(target, "flush"):
                target.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return write

    pd.DataFrame.to_csv = dying(pd.DataFrame.to_csv)
    pd.DataFrame.to_parquet = dying(pd.DataFrame.to_parquet)
    tabgen.write_table(df, path, overwrite=True)
"""


@pytest.mark.parametrize("name", ["big.csv", "big.parquet", "big.csv.gz"])
@pytest.mark.parametrize("existed", [True, False])
def test_write_table_killed_mid_write_leaves_the_old_file_or_none(tmp_path, name, existed):
    path = tmp_path / name
    old = pd.DataFrame({"x": [1.5, 2.5], "k": ["a", "b"]})
    if existed:
        tabgen.write_table(old, path)
        before = path.read_bytes()
    proc = _run(_DIE_IN_TABLE_WRITER.format(path=str(path)), tmp_path)
    assert proc.returncode == -9, proc.stderr  # really killed in the middle
    if existed:
        assert path.read_bytes() == before
        pd.testing.assert_frame_equal(tabgen.read_table(path), old)
    else:
        assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == (
        [name] if existed else []
    )


_DIE_IN_FILE_WRITE = """
    import builtins, io, os, signal
    import pandas as pd
    import tabgen

    df = tabgen.datasets.load_adult().head(200)
    model = tabgen.GaussianCopulaSynthesizer(random_state=1).fit(df)
    real_open = builtins.open

    class Dying:
        # a file that takes half of the first write, then the process is killed
        def __init__(self, fh):
            self.fh = fh
        def write(self, data):
            self.fh.write(data[: max(1, len(data) // 2)])
            self.fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        def __getattr__(self, name):
            return getattr(self.fh, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.fh.close()

    def dying_open(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        return Dying(fh) if any(m in mode for m in "wax") else fh

    builtins.open = io.open = dying_open
    model.save({path!r}, overwrite=True)
"""


def test_save_over_a_model_killed_mid_write_keeps_the_old_model(tmp_path, frame, copula):
    path = tmp_path / "m.tabgen"
    copula.save(path)
    before = path.read_bytes()
    proc = _run(_DIE_IN_FILE_WRITE.format(path=str(path)), tmp_path)
    assert proc.returncode == -9, proc.stderr
    assert path.read_bytes() == before
    pd.testing.assert_frame_equal(
        tabgen.load(path).sample(30, random_state=0), copula.sample(30, random_state=0)
    )


def test_an_exception_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk on fire")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


# -- the policy in the Python API -----------------------------------------------------------
def _writers(copula, frame):
    report = tabgen.evaluate(frame, frame, metrics=["fidelity"])
    anonymizer = tabgen.pipelines.Anonymizer(
        synthesizer=tabgen.GaussianCopulaSynthesizer(random_state=0), holdout=0.3, random_state=0
    ).fit(frame)
    return {
        "t.csv": lambda p, **kw: tabgen.write_table(frame.head(5), p, **kw),
        "t.parquet": lambda p, **kw: tabgen.sample_to_file(copula, p, 10, **kw),
        "m.tabgen": lambda p, **kw: copula.save(p, **kw),
        "r.json": lambda p, **kw: report.to_json(p, **kw),
        "r.html": lambda p, **kw: report.to_html(p, **kw),
        "a.csv": lambda p, **kw: anonymizer.export(p, 10, **kw),
    }


def test_every_writer_refuses_an_existing_file_unless_overwrite(tmp_path, copula, frame):
    for name, write in _writers(copula, frame).items():
        path = tmp_path / name
        path.write_bytes(b"precious")
        with pytest.raises(FileExistsError, match="overwrite=True"):
            write(path)
        assert path.read_bytes() == b"precious", name
        write(path, overwrite=True)
        assert path.read_bytes() != b"precious", name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tabgen-tmp-")]


def test_save_creates_parent_folders(tmp_path, copula):
    path = tmp_path / "a" / "b" / "m.tabgen"
    copula.save(path)
    assert tabgen.load(path).n_rows_ == copula.n_rows_


def test_sample_to_file_checks_before_sampling(tmp_path, copula, monkeypatch):
    calls = []
    monkeypatch.setattr(copula, "_sample_frame", lambda *a, **k: calls.append(a))
    existing = tmp_path / "old.csv"
    existing.write_text("a\n1\n")
    with pytest.raises(FileExistsError):
        tabgen.sample_to_file(copula, existing, 10)
    with pytest.raises(ValueError, match="cannot tell the format"):
        tabgen.sample_to_file(copula, tmp_path / "x.xlsx", 10)
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match=r"not a folder|Not a directory"):
        tabgen.sample_to_file(copula, tmp_path / "file" / "x.csv", 10)
    assert calls == []


@pytest.mark.parametrize("name", ["s.csv.gz", "s.tsv", "s.csv.bz2", "s.csv.zip"])
def test_streamed_and_written_tables_are_in_the_named_format(tmp_path, copula, name):
    path = tabgen.sample_to_file(copula, tmp_path / name, 250, batch_size=100, random_state=0)
    back = tabgen.read_table(path)
    assert len(back) == 250 and list(back.columns) == copula.columns_
    if name.endswith(".gz"):
        with gzip.open(path, "rt") as fh:
            assert fh.readline().startswith("age,")
    if name.endswith(".tsv"):
        assert "\t" in path.read_text().splitlines()[0]
    again = tabgen.write_table(back, tmp_path / ("w-" + name))
    pd.testing.assert_frame_equal(tabgen.read_table(again), back)


def test_an_input_is_never_an_output(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    for same in (data, tmp_path / "sub" / ".." / "d.csv", link):
        with pytest.raises(ValueError, match="also an input"):
            check_output(same, inputs=[data], overwrite=True)
    assert data.read_text() == "a\n1\n"


def test_check_output_refuses_folders_and_missing_folders(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        check_output(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_output(tmp_path / "no" / "x.csv")
    assert check_output(tmp_path / "no" / "x.csv", parents=True).parent.is_dir()


# -- the policy in the command line ---------------------------------------------------------
@pytest.fixture
def files(tmp_path, frame, copula):
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "model.tabgen"
    copula.save(model)
    synth = tmp_path / "synth.csv"
    copula.sample(200, random_state=0).to_csv(synth, index=False)
    return {"data": data, "model": model, "synth": synth, "tmp": tmp_path}


@pytest.fixture
def no_work(monkeypatch):
    """Record any reading of a table or fitting; the refused commands must do none."""
    calls = []

    def record(what):
        def stub(*args, **kwargs):
            calls.append(what)
            raise AssertionError(f"{what} called before the output was checked")

        return stub

    monkeypatch.setattr(tabgen.io, "read_table", record("read_table"))
    monkeypatch.setattr(BaseSynthesizer, "fit", record("fit"))
    monkeypatch.setattr(tabgen.datasets, "load_adult", record("load_adult"))
    return calls


# each command with {out} as its output; {data}/{model}/{synth} are its inputs
COMMANDS = {
    "fit": "fit {data} -m copula -o {out}",
    "sample": "sample {model} -n 10 -o {out}",
    "evaluate": "evaluate {data} {synth} -o {out}",
    "impute": "impute {data} -m copula -o {out}",
    "rebalance": "rebalance {data} --target income -m copula -o {out}",
    "anonymize": "anonymize {data} -m copula -o {out}",
    "anonymize-report": "anonymize {data} -m copula -o {tmp}/fresh.csv --report {out}",
    "demo": "demo --train-rows 100 -o {out}",
    "constraints": "constraints {data} -o {out}",
}
INPUT_OF = {"sample": "model", "evaluate": "synth"}


def _argv(template: str, files, out) -> list[str]:
    return template.format(out=out, **files).split()


def test_every_command_is_covered():
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    names = set(sub.choices)
    # ui writes only into its private workspace, under server-made names (tests/test_ui.py);
    # the database commands read and write folders: test_database_commands_keep_files below
    assert names - {"info", "ui", *DB_COMMANDS} == {c.split("-")[0] for c in COMMANDS}


DB_COMMANDS = ("fit-db", "sample-db", "evaluate-db", "anonymize-db")


def _users_orders_db(folder, n: int, *, seed: int, email: bool = False):
    """A two-table database (users, their orders) written as CSV files into ``folder``."""
    rng = np.random.default_rng(seed)
    users = pd.DataFrame({"user_id": np.arange(n), "age": rng.integers(20, 70, n)})
    if email:
        users["email"] = [f"user{i}@mail.com" for i in range(n)]
    owner = np.repeat(users["user_id"].to_numpy(), rng.integers(0, 4, n))
    orders = pd.DataFrame(
        {"order_id": np.arange(len(owner)), "user_id": owner, "amount": rng.gamma(2, 5, len(owner))}
    )
    folder.mkdir()
    users.to_csv(folder / "users.csv", index=False)
    orders.to_csv(folder / "orders.csv", index=False)
    return users, orders


def test_database_commands_keep_files(tmp_path, capsys):
    """fit-db, sample-db and evaluate-db: an existing output or an input as output is refused
    and left unchanged; with --overwrite the output is replaced."""
    from tabgen.relational import Metadata

    db = tmp_path / "db"
    users, orders = _users_orders_db(db, 40, seed=0)
    meta = Metadata.detect({"users": users, "orders": orders}, verbose=False)
    meta_path = meta.save(tmp_path / "meta.json")
    table_bytes = (db / "users.csv").read_bytes()

    fit = ["fit-db", str(db), "--metadata", str(meta_path), "-q", "-o"]
    assert cli.main([*fit, str(db / "users.csv"), "--overwrite"]) == 1  # an input
    assert "also an input" in capsys.readouterr().err
    assert (db / "users.csv").read_bytes() == table_bytes
    model = tmp_path / "db.tabgen"
    model.write_bytes(b"keep me")
    assert cli.main([*fit, str(model)]) == 1
    assert model.read_bytes() == b"keep me" and "--overwrite" in capsys.readouterr().err
    assert cli.main([*fit, str(model), "--overwrite"]) == 0
    assert tabgen.load(model) is not None

    out = tmp_path / "fake"
    out.mkdir()
    (out / "users.csv").write_bytes(b"keep me")
    sample = ["sample-db", str(model), "-o", str(out), "-q"]
    assert cli.main(sample) == 1
    assert (out / "users.csv").read_bytes() == b"keep me"
    assert not (out / "orders.csv").exists()  # nothing written when one output is refused
    assert cli.main([*sample, "--overwrite"]) == 0
    assert (
        pd.read_csv(out / "orders.csv")["user_id"]
        .isin(pd.read_csv(out / "users.csv")["user_id"])
        .all()
    )

    report = tmp_path / "r.json"
    report.write_text("keep me")
    evaluate = ["evaluate-db", str(db), str(out), "--metadata", str(meta_path), "-q", "-o"]
    assert cli.main([*evaluate, str(report)]) == 1
    assert report.read_text() == "keep me"
    assert cli.main([*evaluate, str(meta_path), "--overwrite"]) == 1  # an input
    assert meta_path.read_text().startswith("{")


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {"demo"}))
@pytest.mark.parametrize("overwrite", [False, True])
def test_an_input_as_output_is_refused_and_unchanged(files, no_work, capsys, command, overwrite):
    target = files[INPUT_OF.get(command, "data")]
    before = target.read_bytes()
    argv = _argv(COMMANDS[command], files, target) + (["--overwrite"] if overwrite else [])
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "also an input" in err and len(err.strip().splitlines()) == 1
    assert target.read_bytes() == before and no_work == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_existing_output_is_refused_and_unchanged(files, no_work, capsys, command):
    suffix = {
        "fit": ".tabgen",
        "evaluate": ".html",
        "anonymize-report": ".json",
        "demo": "",
    }.get(command, ".csv")
    out = files["tmp"] / f"existing{suffix}"
    out.write_bytes(b"keep me")
    assert cli.main(_argv(COMMANDS[command], files, out)) == 1
    err = capsys.readouterr().err
    assert out.read_bytes() == b"keep me" and no_work == []
    assert ("exists" in err or "is a file" in err) and "Traceback" not in err


def test_an_existing_json_beside_the_html_report_is_refused(files, no_work, capsys):
    (files["tmp"] / "r.json").write_text("{}")
    argv = _argv(COMMANDS["evaluate"], files, files["tmp"] / "r.html")
    assert cli.main(argv) == 1
    assert "r.json' exists" in capsys.readouterr().err
    assert not (files["tmp"] / "r.html").exists() and no_work == []


def test_a_demo_folder_with_results_is_refused(files, no_work):
    out = files["tmp"] / "demo"
    out.mkdir()
    (out / "synthetic.csv").write_text("keep")
    assert cli.main(_argv(COMMANDS["demo"], files, out)) == 1
    assert (out / "synthetic.csv").read_text() == "keep" and no_work == []


@pytest.mark.parametrize(
    ("command", "out", "message"),
    [
        ("fit", "{tmp}/no/such/dir/m.tabgen", "does not exist"),
        ("rebalance", "{tmp}/out.xlsx", "cannot tell the format"),
        ("impute", "{tmp}/x.json", "cannot tell the format"),
        ("anonymize", "{tmp}/x.xlsx", "cannot tell the format"),
        ("sample", "{tmp}/x.xlsx", "cannot tell the format"),
        ("evaluate", "{tmp}/r.txt", "cannot write a report"),
        ("anonymize-report", "{tmp}/r.pdf", "cannot write a report"),
        ("demo", "{data}", "is a file"),
        ("impute", "{data}/x.csv", "not a folder"),
    ],
)
def test_a_bad_output_fails_before_any_work(files, no_work, capsys, command, out, message):
    out = out.format(**files)
    assert cli.main(_argv(COMMANDS[command], files, out)) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert no_work == []
    assert not (files["tmp"] / "no").exists()


def test_overwrite_replaces_and_evaluate_json_only(files, capsys):
    out = files["tmp"] / "imputed.csv"
    out.write_text("old")
    assert cli.main([*_argv(COMMANDS["impute"], files, out), "--overwrite"]) == 0
    assert len(pd.read_csv(out)) == 300
    report = files["tmp"] / "rep.json"
    assert cli.main(_argv(COMMANDS["evaluate"], files, report)) == 0
    assert "shape" in json.loads(report.read_text())["scores"]  # JSON, not HTML
    assert not report.with_suffix(".html").exists()


# -- exit codes and --debug -----------------------------------------------------------------
def test_exit_codes(files, capsys):
    assert cli.main(["info", str(files["model"])]) == 0
    with pytest.raises(SystemExit) as exc:
        cli.main(["fit", str(files["data"]), "--no-such-flag"])
    assert exc.value.code == 2
    assert cli.main(["info", str(files["tmp"] / "missing.tabgen")]) == 1
    capsys.readouterr()


def test_internal_errors_are_one_line_and_debug_shows_the_traceback(files, capsys, monkeypatch):
    def broken(args):
        return 1 / 0

    monkeypatch.setattr(cli, "cmd_info", broken)
    assert cli.main(["info", str(files["model"])]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "internal error: ZeroDivisionError" in err and "--debug" in err
    for argv in (
        ["--debug", "info", str(files["model"])],
        ["info", "--debug", str(files["model"])],
    ):
        assert cli.main(argv) == 1
        err = capsys.readouterr().err
        assert "Traceback" in err and "ZeroDivisionError" in err
    assert cli.main(["--debug", "info", str(files["tmp"] / "missing.tabgen")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("tabgen: error:")


def test_help_imports_no_model_code():
    probe = _run("import sys, tabgen; print('torch' in sys.modules)", ROOT)
    assert probe.stdout.strip() == "False", probe.stderr
    proc = _run(
        """
        import sys
        from tabgen import cli
        try:
            cli.main(["fit", "--help"])
        except SystemExit:
            pass
        print(sorted(m for m in sys.modules if m == "torch" or m.startswith("tabgen.synth")))
        """,
        ROOT,
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stderr


def test_the_help_names_every_registered_model():
    assert set(cli._MODEL_NAMES) == set(tabgen.SYNTHESIZERS)


def test_anonymize_db_keeps_files(tmp_path, capsys):
    """anonymize-db: an existing table file or report is refused and left unchanged (no table
    written); an input table as the output folder is refused; --overwrite replaces."""
    db = tmp_path / "db"
    users, _ = _users_orders_db(db, 50, seed=1, email=True)
    table_bytes = (db / "users.csv").read_bytes()
    run = ["anonymize-db", str(db), "-q", "-o"]
    assert cli.main([*run, str(db), "--overwrite"]) == 1  # the input folder as output
    assert "also an input" in capsys.readouterr().err
    assert (db / "users.csv").read_bytes() == table_bytes
    out = tmp_path / "fake"
    out.mkdir()
    (out / "users.csv").write_bytes(b"keep me")
    assert cli.main([*run, str(out)]) == 1
    assert (out / "users.csv").read_bytes() == b"keep me"
    assert not (out / "orders.csv").exists()
    report = tmp_path / "r.json"
    report.write_text("keep me")
    assert cli.main([*run, str(out), "--overwrite", "--report", str(db / "users.csv")]) == 1
    assert (db / "users.csv").read_bytes() == table_bytes
    assert cli.main([*run, str(tmp_path / "fake2"), "--report", str(report)]) == 1
    assert report.read_text() == "keep me" and not (tmp_path / "fake2").exists()
    capsys.readouterr()
    html = tmp_path / "privacy.html"
    assert cli.main([*run, str(out), "--overwrite", "--report", str(html)]) == 0
    assert html.is_file() and json.loads(html.with_suffix(".json").read_text())
    printed = capsys.readouterr().out
    assert "email (email)" in printed and "not saved" in printed
    fake_users = pd.read_csv(out / "users.csv")
    assert not fake_users["email"].isin(users["email"]).any()  # regenerated, never copied
    assert pd.read_csv(out / "orders.csv")["user_id"].isin(fake_users["user_id"]).all()
