"""``tabgen ui`` with Flask's test client: safety (token, host, traversal, upload limit,
workspace removal), the server-side form checks (the API's own errors), the job queue,
cancellation and the downloads. The browser tests are in ``test_ui_browser.py``."""

from __future__ import annotations

import html
import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("flask", reason="the 'ui' extra (Flask) is not installed")

import tabgen
from tabgen.ui import UIServer, create_app
from tabgen.ui.workspace import Workspace, display_name, table_suffix

ROOT = Path(__file__).resolve().parents[1]


def _frame(n=200, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": rng.integers(0, 4, n),
            "c": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
        }
    )


def _csv(df: pd.DataFrame) -> io.BytesIO:
    return io.BytesIO(df.to_csv(index=False).encode())


@pytest.fixture
def app(tmp_path):
    app = create_app(workspace_parent=tmp_path)
    yield app
    app.extensions["tabgen_ui"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def _errors(response) -> list[str]:
    page = response.get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'class="error" id="[^"]*">([^<]*)<', page)]


def _upload(client, df=None, name="table.csv") -> str:
    r = client.post(
        "/upload",
        data={"file": (_csv(_frame() if df is None else df), name)},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303, _errors(r)
    return r.headers["Location"]


def _start(client, data_url: str, **form) -> str:
    r = client.post(data_url + "/job", data=form)
    assert r.status_code == 303, _errors(r)
    return r.headers["Location"].rsplit("/", 1)[-1]


def _wait(client, job_id: str, until=("done", "failed", "cancelled"), timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/jobs/{job_id}").get_json()
        if status["state"] in until:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {status['state']} after {timeout} s")


# -- token and host ---------------------------------------------------------------------------
def test_non_local_bind_needs_a_token(tmp_path):
    with pytest.raises(ValueError, match="token is required"):
        create_app(host="0.0.0.0", workspace_parent=tmp_path)


def test_request_without_the_token_is_refused_on_a_non_local_bind(tmp_path):
    app = create_app(host="0.0.0.0", token="s3cret-token", workspace_parent=tmp_path)
    try:
        client = app.test_client()
        assert client.get("/").status_code == 403
        assert client.get("/api/jobs/abc").status_code == 403
        assert client.post("/demo").status_code == 403
        assert client.get("/", headers={"X-Tabgen-Token": "wrong"}).status_code == 403
        assert client.get("/?token=s3cret-tokeX").status_code == 403
        assert client.get("/", headers={"X-Tabgen-Token": "s3cret-token"}).status_code == 200
        # the token in the address becomes a cookie and leaves the address
        r = client.get("/?token=s3cret-token")
        assert r.status_code == 302 and "token" not in r.headers["Location"]
        assert "tabgen_token=s3cret-token" in r.headers["Set-Cookie"]
        assert "SameSite=Strict" in r.headers["Set-Cookie"]
        assert client.get("/").status_code == 200  # the cookie now carries it
        assert client.get("/nowhere?token=s3cret-token").status_code == 404
        assert not app.extensions["tabgen_ui"].workspace.files()
    finally:
        app.extensions["tabgen_ui"].close()


def test_local_bind_refuses_other_host_names_and_cross_origin_posts(client):
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    # DNS rebinding: a page of evil.example resolving to 127.0.0.1
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 403
    r = client.post("/demo", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert client.post("/demo", headers={"Origin": "null"}).status_code == 403
    assert client.post("/demo", headers={"Origin": "http://localhost"}).status_code == 303


def test_pages_forbid_framing_and_the_report_is_sandboxed(client):
    r = client.get("/")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


# -- uploads ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["../../../evil.csv", "..\\..\\evil.csv", "/etc/evil.csv", "sub/../../evil.csv"]
)
def test_path_traversal_file_name_stays_inside_the_workspace(app, client, tmp_path, name):
    root = app.extensions["tabgen_ui"].workspace.root
    url = _upload(client, name=name)
    files = app.extensions["tabgen_ui"].workspace.files()
    assert len(files) == 1
    assert files[0].parent == root and re.fullmatch(r"[0-9a-f]{16}\.csv", files[0].name)
    assert not list(tmp_path.rglob("evil.csv"))
    assert not Path("/etc/evil.csv").exists()
    page = client.get(url).get_data(as_text=True)
    (shown,) = re.findall(r"<p><strong>([^<]*)</strong>", page)  # for display only
    assert shown.endswith("evil.csv") and "/" not in shown and "\\" not in shown


def test_file_names_are_only_displayed_and_read_for_their_ending():
    assert table_suffix("x/../DATA.Parquet") == ".parquet"
    assert display_name("a/b\\..\\c.csv") == "c.csv"
    with pytest.raises(ValueError, match=r"unsupported file 'passwd'"):
        table_suffix("../../etc/passwd")
    ws = Workspace()
    try:
        for bad in ("../x", "/etc/passwd", "abc", "0123456789abcdef/../x", ""):
            with pytest.raises(ValueError, match="not a workspace file name"):
                ws.path(bad)
    finally:
        ws.close()
    assert not ws.root.exists()


def test_oversized_upload_is_refused(tmp_path):
    app = create_app(max_upload_mb=0.01, workspace_parent=tmp_path)
    state = app.extensions["tabgen_ui"]
    try:
        big = _frame(2000)  # about 60 kB > 10 kB
        r = app.test_client().post(
            "/upload", data={"file": (_csv(big), "big.csv")}, content_type="multipart/form-data"
        )
        assert r.status_code == 413
        assert "larger than the limit of 0.01 MB" in r.get_data(as_text=True)
        assert state.workspace.files() == [] and state.datasets == {}
    finally:
        state.close()


def test_malformed_and_unsupported_files_are_refused_with_the_reason(app, client):
    cases = [
        (b"a,b\n1,2\n3,4,5,6\n", "bad.csv", "Expected 2 fields in line 3, saw 4"),
        (b"not a parquet file", "bad.parquet", "cannot read 'bad.parquet' as PARQUET"),
        (b"", "empty.csv", "cannot read 'empty.csv' as CSV: No columns to parse"),
        (b"a,b\n", "header.csv", "cannot use 'header.csv': header.csv has no rows"),
        (b"a,b\n1,2\n", "notes.txt", "unsupported file 'notes.txt'"),
    ]
    for data, name, message in cases:
        r = client.post(
            "/upload", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
        )
        assert r.status_code == 400, name
        errors = _errors(r)
        assert any(message in e for e in errors), (name, errors)
        assert "tabgen-ui-" not in " ".join(errors)  # no server path shown
    assert app.extensions["tabgen_ui"].workspace.files() == []


def test_parquet_upload_and_the_adult_demo(client, tmp_path):
    df = _frame()
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    r = client.post(
        "/upload",
        data={"file": (io.BytesIO(path.read_bytes()), "t.parquet")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "<strong>t.parquet</strong>: 200 rows, 3 columns" in page
    r = client.post("/demo")
    assert r.status_code == 303
    page = html.unescape(client.get(r.headers["Location"]).get_data(as_text=True))
    assert "adult (bundled demo)</strong>: 5,000 rows, 15 columns" in page
    assert "workclass" in page and "capital_gain >= 0" in page
    assert "Tables in this session" in client.get("/").get_data(as_text=True)
    r = client.post("/demo", data={"rows": "../../x"})
    assert r.status_code == 400 and _errors(r) == ["rows must be 5000 or all, got '../../x'"]


def test_data_page_shows_kinds_pii_missing_and_rules(client):
    df = _frame()
    df["email"] = [f"person{i}@mail.com" for i in range(len(df))]
    df["z"] = df["x"].abs()
    df.loc[:9, "c"] = None
    page = client.get(_upload(client, df)).get_data(as_text=True)
    assert "PII: email" in page
    assert "5.0 %" in page  # missing share of c
    assert "z &gt;= 0" in page  # a discovered rule
    assert 'value="integer" selected' in page  # detected kind of y


# -- the form checks give the API's errors ----------------------------------------------------
def _api_error(func) -> str:
    with pytest.raises((ValueError, TypeError)) as info:
        func()
    return str(info.value)


def test_job_form_errors_are_the_apis_own(client):
    df = _frame()
    url = _upload(client, df)
    r = client.post(url + "/job", data={"kind": "synthesize", "model": "vae", "rows": "0",
                                        "epochs": "0"})  # fmt: skip
    assert r.status_code == 400
    errors = _errors(r)
    from tabgen._validation import check_n

    assert _api_error(lambda: check_n(0)) in errors
    assert "epochs must be a positive integer, got 0" in errors
    r = client.post(url + "/job", data={"kind": "synthesize", "model": "vae", "epochs": "0"})
    assert _api_error(lambda: tabgen.VAESynthesizer(epochs=0).fit(df)) in _errors(r)

    r = client.post(url + "/job", data={"kind": "anonymize", "model": "copula", "holdout": "5"})
    from tabgen.pipelines import Anonymizer

    expected = _api_error(lambda: Anonymizer(holdout=5).fit(df))
    assert _errors(r) == [expected]

    r = client.post(url + "/job", data={"kind": "anonymize", "epsilon": "-1"})
    expected = _api_error(
        lambda: Anonymizer(synthesizer=tabgen.GaussianCopulaSynthesizer(), epsilon=-1.0).fit(df)
    )
    assert _errors(r) == [expected]

    r = client.post(url + "/job", data={"kind": "synthesize", "conditions": "c=zzz"})
    assert _errors(r) == ["unknown category 'zzz' for column 'c'; known: 'a', 'b', 'c'"]
    r = client.post(url + "/job", data={"kind": "synthesize", "model": "nope"})
    assert _errors(r) == ["unknown model 'nope'; available models: copula, vae, gan, diffusion"]
    r = client.post(url + "/job", data={"kind": "impute"})
    assert _errors(r) == ["the table has no missing cells to fill"]
    r = client.post(url + "/job", data={"kind": "rebalance", "target": "nope"})
    assert "unknown target column 'nope'" in _errors(r)[0]
    assert not client.application.extensions["tabgen_ui"].runner.jobs  # nothing started


def test_a_kind_the_column_cannot_take_shows_the_schema_error(client):
    df = _frame()
    url = _upload(client, df)
    r = client.post(url, data={"kind-2": "numerical"})  # "c" holds letters
    assert r.status_code == 400
    expected = _api_error(lambda: tabgen.Schema.detect(df, {"c": "numerical"}))
    assert _errors(r) == [expected]
    r = client.post(url, data={"kind-1": "categorical", "rule-0": "accept"})
    assert r.status_code == 303


def test_rules_are_found_again_after_a_kind_changes(client):
    df = _frame()
    url = _upload(client, df)
    assert "y &gt;= 0" in client.get(url).get_data(as_text=True)
    ds = next(iter(client.application.extensions["tabgen_ui"].datasets.values()))
    # y becomes a category: "y >= 0", accepted in the same submit, no longer applies
    assert client.post(url, data={"kind-1": "categorical", "rule-0": "accept"}).status_code == 303
    assert ds.kinds["y"] == "categorical" and ds.accepted_rules == []
    assert "y &gt;= 0" not in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"kind-1": "integer"}).status_code == 303  # back
    assert "y &gt;= 0" in client.get(url).get_data(as_text=True)  # found again, not accepted
    assert ds.accepted_rules == []


# -- jobs -------------------------------------------------------------------------------------
def test_synthesize_with_conditions_and_downloads(app, client):
    df = _frame()
    url = _upload(client, df)
    assert client.post(url, data={"kind-1": "categorical"}).status_code == 303
    job_id = _start(client, url, kind="synthesize", model="preset:fast", rows="123",
                    conditions="c=b\nx=0.5")  # fmt: skip
    status = _wait(client, job_id)
    assert status["state"] == "done" and status["percent"] == 100
    page = client.get(f"/jobs/{job_id}/result").get_data(as_text=True)
    assert "y → categorical" in page
    out = pd.read_csv(io.BytesIO(client.get(f"/jobs/{job_id}/download/csv").data))
    assert out.shape == (123, 3) and list(out.columns) == ["x", "y", "c"]
    assert set(out["c"]) == {"b"} and np.allclose(out["x"], 0.5)
    r = client.get(f"/jobs/{job_id}/download/parquet")
    assert r.headers["Content-Disposition"] == "attachment; filename=table-synthesize.parquet"
    assert pd.read_parquet(io.BytesIO(r.data)).shape == (123, 3)
    assert client.get(f"/jobs/{job_id}/download/..%2f..%2fetc").status_code == 404
    report = client.get(f"/jobs/{job_id}/report")
    assert report.status_code == 200 and "sandbox" in report.headers["Content-Security-Policy"]
    saved = client.get(f"/jobs/{job_id}/report?download=1")
    assert saved.data == report.data
    assert saved.headers["Content-Disposition"] == (
        "attachment; filename=table-synthesize-report.html"
    )
    # the model: written by tabgen's save, read back by the safe loader
    r = client.post(f"/jobs/{job_id}/model")
    assert r.status_code == 200
    path = app.extensions["tabgen_ui"].workspace.new_path(".tabgen")
    path.write_bytes(r.data)
    model = tabgen.load(path)
    assert model.schema_["y"].kind == "categorical"
    assert model.sample(5).shape == (5, 3)


def test_anonymize_shows_the_privacy_report_and_offers_no_model(client):
    url = _upload(client, _frame(300))
    job_id = _start(client, url, kind="anonymize", model="preset:fast", anon_rows="100")
    assert _wait(client, job_id)["state"] == "done"
    page = client.get(f"/jobs/{job_id}/result").get_data(as_text=True)
    assert "Privacy report" in page and 'id="no-model"' in page
    report = client.get(f"/jobs/{job_id}/report").get_data(as_text=True)
    assert "privacy" in report.lower()
    assert client.post(f"/jobs/{job_id}/model").status_code == 404


def test_anonymize_with_epsilon_drops_pii_columns(client):
    df = _frame(300)
    df["email"] = [f"p{i}@mail.org" for i in range(len(df))]
    url = _upload(client, df)
    job_id = _start(client, url, kind="anonymize", model="preset:fast", epsilon="3",
                    anon_rows="80", pii="drop", anon_target="c")  # fmt: skip
    status = _wait(client, job_id)
    assert status["state"] == "done" and status["model"] == "copula", status["error"]
    page = html.unescape(client.get(f"/jobs/{job_id}/result").get_data(as_text=True))
    assert "epsilon 3, delta" in page and "email (email)" in page
    out = pd.read_parquet(io.BytesIO(client.get(f"/jobs/{job_id}/download/parquet").data))
    assert out.shape == (80, 3) and "email" not in out.columns


def test_impute_and_rebalance_jobs(client):
    df = _frame(240)
    df.loc[::7, "x"] = np.nan
    url = _upload(client, df)
    job_id = _start(client, url, kind="impute", model="copula", draws="2")
    status = _wait(client, job_id)
    assert status["state"] == "done", status["error"]
    out = pd.read_csv(io.BytesIO(client.get(f"/jobs/{job_id}/download/csv").data))
    assert out.shape == df.shape and out["x"].notna().all()
    # preset best: the imputer's default engine (no synthesizer), as SyntheticImputer() fills
    job_id = _start(client, url, kind="impute", model="preset:best", seed="4")
    status = _wait(client, job_id)
    assert status["state"] == "done", status["error"]
    out = pd.read_csv(io.BytesIO(client.get(f"/jobs/{job_id}/download/csv").data))
    expected = tabgen.pipelines.SyntheticImputer(random_state=4).fit_transform(df)
    np.testing.assert_allclose(out["x"], expected["x"])
    page = client.get(f"/jobs/{job_id}/result").get_data(as_text=True)
    assert "per-column predictors" in page and "no model file" in page
    dataset_id = url.rsplit("/", 1)[-1]
    r = client.get(f"/api/estimate/{dataset_id}?model=preset:best&kind=impute&epochs=5")
    assert r.status_code == 200 and r.get_json()["model"] == "chained"
    job_id = _start(client, url, kind="rebalance", model="copula", target="c",
                    strategy="c=60", selection="none")  # fmt: skip
    status = _wait(client, job_id)
    assert status["state"] == "done", status["error"]
    out = pd.read_csv(io.BytesIO(client.get(f"/jobs/{job_id}/download/csv").data))
    assert (out["c"] == "c").sum() == 60 and len(out) > len(df)


def test_rebalance_strategy_is_checked_by_the_pipelines_parser(client):
    from tabgen.pipelines import target_counts

    df = _frame()
    url = _upload(client, df)
    for text, strategy in [("a=1", {"a": 1}), ("xyz", "xyz"), ("0.5", 0.5), ("zz=3", {"zz": 3})]:
        r = client.post(url + "/job", data={"kind": "rebalance", "target": "c",
                                            "strategy": text})  # fmt: skip
        assert r.status_code == 400
        assert _errors(r) == [_api_error(lambda s=strategy: target_counts(s, df["c"]))]
    # class names are matched to the column's values: y holds integers
    r = client.post(url + "/job", data={"kind": "rebalance", "model": "copula", "target": "y",
                                        "strategy": "0=60", "selection": "none"})  # fmt: skip
    assert r.status_code == 303, _errors(r)
    status = _wait(client, r.headers["Location"].rsplit("/", 1)[-1])
    assert status["state"] == "done", status["error"]


def test_a_failing_job_shows_the_apis_error(client, monkeypatch):
    url = _upload(client, _frame())
    job_id = _start(client, url, kind="synthesize", model="copula", rows="5")
    assert _wait(client, job_id)["state"] == "done"

    def broken(*args, **kwargs):
        raise ValueError("the model's own message")

    monkeypatch.setattr(tabgen.GaussianCopulaSynthesizer, "fit", broken)
    job_id = _start(client, url, kind="synthesize", model="copula", rows="5")
    status = _wait(client, job_id)
    assert status["state"] == "failed" and status["error"] == "the model's own message"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "the model&#39;s own message" in page and 'id="again"' in page


def test_one_job_at_a_time_queue_and_cancel(app, client):
    runner = app.extensions["tabgen_ui"].runner
    url = _upload(client, _frame())
    slow = {"kind": "synthesize", "model": "vae", "epochs": "100000"}
    first = _start(client, url, **slow)
    second = _start(client, url, **slow)
    status = _wait(client, first, until=("running",))
    deadline = time.monotonic() + 60
    while status["epoch"] is None and time.monotonic() < deadline:  # training has begun
        time.sleep(0.05)
        status = client.get(f"/api/jobs/{first}").get_json()
    assert status["epoch"] >= 1 and status["epochs"] == 100000 and "loss" in status["loss"]
    queued = client.get(f"/api/jobs/{second}").get_json()
    assert queued["state"] == "queued" and queued["queue_position"] == 1
    assert client.post(f"/jobs/{second}/cancel").status_code == 303  # never starts
    assert client.get(f"/api/jobs/{second}").get_json()["state"] == "cancelled"
    r = client.post(f"/jobs/{first}/cancel", headers={"X-Requested-With": "fetch"})
    assert r.status_code == 200
    answer = r.get_json()
    assert (answer["state"], answer["stage"]) in [
        ("running", "cancelling: stops at the next epoch or step"),
        ("cancelled", "cancelled"),
    ]
    status = _wait(client, first, timeout=60)
    assert status["state"] == "cancelled" and status["epoch"] < 100000
    assert runner.current is None
    # the worker is free again
    third = _start(client, url, kind="synthesize", model="copula", rows="10")
    assert _wait(client, third)["state"] == "done"
    assert client.get(f"/jobs/{first}/result").status_code == 409


# -- shutdown ---------------------------------------------------------------------------------
def test_workspace_is_gone_after_shutdown(tmp_path):
    server = UIServer(port=0, workspace_parent=tmp_path).start()
    root = server.workspace
    with urllib.request.urlopen(server.url, timeout=10) as r:
        assert r.status == 200
    server.state.datasets["x"] = None
    (root / "0123456789abcdef.csv").write_text("a\n1\n")
    assert root.exists()
    server.stop()
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_ui_serves_and_removes_its_workspace_on_exit(sig):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tabgen.cli", "ui", "--port", "0", "--no-browser"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        workspace = Path(re.search(r"workspace (\S+)", proc.stdout.readline()).group(1))
        assert url.startswith("http://127.0.0.1:") and workspace.is_dir()
        with urllib.request.urlopen(url, timeout=10) as r:
            assert "Step 1 of 4" in r.read().decode()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "workspace removed" in out
    assert not workspace.exists()


def test_cli_ui_on_a_public_address_generates_and_requires_a_token():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tabgen.cli",
            "ui",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--no-browser",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert url.endswith(f"?token={token}") and len(token) >= 24
        bare = url.split("?")[0]
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bare, timeout=10)
        assert info.value.code == 403
        cookies = urllib.request.HTTPCookieProcessor()  # the token moves into a cookie
        with urllib.request.build_opener(cookies).open(url, timeout=10) as r:
            assert r.status == 200 and "token" not in r.url
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0


def test_cli_ui_on_a_busy_port_fails_cleanly(tmp_path, capsys, monkeypatch):
    import tempfile

    from tabgen.cli import main

    server = UIServer(port=0, workspace_parent=tmp_path).start()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the CLI's workspace goes
    try:
        assert main(["ui", "--port", str(server.port), "--no-browser"]) == 1
        err = capsys.readouterr().err
        assert f"tabgen: error: cannot serve on 127.0.0.1:{server.port}" in err
        assert [p for p in tmp_path.iterdir() if p != server.workspace] == []  # removed
    finally:
        server.stop()


def test_cli_ui_says_what_is_missing_without_the_extra(monkeypatch, capsys):
    from tabgen.cli import main

    monkeypatch.setitem(sys.modules, "flask", None)  # import flask now fails
    assert main(["ui", "--no-browser"]) == 1
    assert "pip install 'tabgen[ui]'" in capsys.readouterr().err


def test_import_tabgen_and_help_do_not_import_flask():
    code = (
        "import sys, runpy\n"
        "import tabgen, tabgen.ui, tabgen.cli.parser\n"
        "tabgen.cli.parser.build_parser()\n"
        "sys.argv = ['tabgen', '--help']\n"
        "try:\n"
        "    runpy.run_module('tabgen.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'flask' not in sys.modules and 'werkzeug' not in sys.modules\n"
        "print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("ok") and " ui " in proc.stdout


def test_pages_and_assets_are_package_data():
    """Every template and static file is matched by pyproject's package-data (so that an
    installed, non-editable tabgen has them)."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["tabgen.ui"]
    package = ROOT / "tabgen" / "ui"
    files = [p.relative_to(package).as_posix() for p in package.rglob("*.*")]
    data = [f for f in files if f.startswith(("templates/", "static/"))]
    assert len(data) >= 8
    assert all(any(fnmatch.fnmatch(f, pat) for pat in patterns) for f in data), data
    assert config["project"]["optional-dependencies"]["ui"] == ["flask>=3.0"]


@pytest.mark.parametrize("ci", ["true", ""])
def test_browser_tests_skip_without_chromium_but_fail_under_ci(ci):
    env = dict(os.environ, PYTHONPATH=str(ROOT), CI=ci, TABGEN_UI_CHROMIUM="/nonexistent/chromium")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/test_ui_browser.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    if ci:
        assert proc.returncode not in (0, 5), out[-2000:]
        assert "CI=true but the browser tests cannot run: /nonexistent/chromium is missing" in out
    else:
        assert proc.returncode in (0, 5), out[-2000:]  # 5: every test skipped at collection
        assert "browser tests skipped: /nonexistent/chromium is missing" in out


def _contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours."""

    def luminance(colour):
        c = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted([luminance(a), luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_style_sheet_text_contrast_is_at_least_4_5():
    css = (ROOT / "tabgen" / "ui" / "static" / "ui.css").read_text(encoding="utf-8")
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [
        ("fg", "bg"), ("fg", "card"), ("muted", "bg"), ("muted", "card"), ("accent", "bg"),
        ("accent", "card"), ("accent-fg", "accent"), ("error", "error-bg"), ("error", "card"),
        ("error", "bg"),
    ]  # fmt: skip
    ratios = {p: _contrast(var[p[0]], var[p[1]]) for p in pairs}
    assert min(ratios.values()) >= 4.5, ratios
    assert _contrast("#d7e3ee", "#10283f") >= 4.5  # step list on the top bar
    assert "#d7e3ee" in css and "#10283f" in css


def test_ui_presets_are_the_pipelines_presets():
    from tabgen.pipelines._presets import PRESETS
    from tabgen.ui.forms import preset_model

    for kind, pipeline in [("rebalance", "SyntheticOverSampler"), ("anonymize", "Anonymizer")]:
        for preset, model in PRESETS[pipeline].items():
            assert preset_model(preset, kind) == model, (kind, preset)
    assert preset_model("fast", "synthesize") == "copula"
    from tabgen.pipelines.imputation import PRESETS as IMPUTER

    assert preset_model("fast", "impute") == IMPUTER["fast"][0]
    assert preset_model("best", "impute") == "chained" and IMPUTER["chained"] is None
    assert preset_model("best", "anonymize", epsilon=1.0) == "copula"  # the DP default
