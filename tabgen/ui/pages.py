"""Steps 1 and 2 of the web app: the data (upload, the demo, the columns page) and the job
form, with the expected-time endpoint the job form calls."""

from __future__ import annotations

import secrets
import warnings


def render_index(state, errors=None, status=200):
    """The upload page (with ``errors`` by field) and its status code."""
    from flask import render_template

    page = render_template(
        "upload.html",
        step=1,
        errors=errors or {},
        max_mb=state.max_upload_mb,
        datasets=list(state.datasets.values()),
    )
    return page, status


def get_dataset(state, dataset_id):
    """The table ``dataset_id`` of this session, or a 404 answer."""
    from flask import abort

    ds = state.datasets.get(dataset_id)
    if ds is None:
        abort(404, "no such table in this session (upload it again)")
    return ds


def _store(state, ds) -> None:
    with state.lock:
        state.datasets[ds.id] = ds


def register_data_pages(app, state) -> None:
    """Add the routes of steps 1 and 2 to ``app``."""
    from flask import abort, jsonify, redirect, render_template, request, url_for

    from tabgen.ui import data as tables
    from tabgen.ui import estimates, forms
    from tabgen.ui.jobs import Job
    from tabgen.ui.workspace import display_name, table_suffix

    @app.get("/")
    def index():
        return render_index(state)

    @app.post("/upload")
    def upload():
        from tabgen._frames import check_frame
        from tabgen.io import read_table

        file = request.files.get("file")
        if file is None or not file.filename:
            return render_index(
                state, errors={"file": "choose a CSV or Parquet file to upload"}, status=400
            )
        name = display_name(file.filename)
        try:
            suffix = table_suffix(file.filename)
        except ValueError as exc:
            return render_index(state, errors={"file": str(exc)}, status=400)
        path = state.workspace.new_path(suffix)
        file.save(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = read_table(path)
            frame = check_frame(frame, what=name)
            if frame.shape[0] == 0 or frame.shape[1] == 0:
                raise ValueError(f"{name!r} has no rows or no columns")
            ds = tables.analyse(secrets.token_hex(8), name, frame)
        except (ValueError, TypeError, OSError) as exc:
            path.unlink(missing_ok=True)
            message = str(exc).replace(repr(str(path)), repr(name)).replace(str(path), name)
            if repr(name) not in message:
                message = f"cannot use {name!r}: {message}"
            return render_index(state, errors={"file": message}, status=400)
        _store(state, ds)
        return redirect(url_for("data", dataset_id=ds.id), code=303)

    @app.post("/demo")
    def demo():
        from tabgen.datasets import load_adult

        frame = load_adult()
        rows = request.form.get("rows", "5000")
        if rows not in ("5000", "all"):
            return render_index(
                state, errors={"rows": f"rows must be 5000 or all, got {rows!r}"}, status=400
            )
        if rows == "5000":
            frame = frame.sample(n=5000, random_state=0).reset_index(drop=True)
        ds = tables.analyse(secrets.token_hex(8), "adult (bundled demo)", frame)
        _store(state, ds)
        return redirect(url_for("data", dataset_id=ds.id), code=303)

    @app.route("/data/<dataset_id>", methods=["GET", "POST"])
    def data(dataset_id):
        ds = get_dataset(state, dataset_id)
        errors = {}
        if request.method == "POST":
            try:
                tables.apply_column_form(ds, request.form)
            except forms.FormError as exc:
                errors = exc.errors
            else:
                return redirect(url_for("job_form", dataset_id=ds.id), code=303)
        preview = ds.frame.head(10)
        return render_template(
            "data.html",
            step=1,
            ds=ds,
            errors=errors,
            kinds=tables.KINDS,
            preview=preview,
            rule_text=tables.rule_text,
        ), (400 if errors else 200)

    # -- step 2: the job ----------------------------------------------------------------------
    def _estimates(ds):
        n, d = ds.frame.shape
        return {
            m: estimates.describe_seconds(estimates.expected_seconds(m, n, d)) for m in forms.MODELS
        }

    @app.route("/data/<dataset_id>/job", methods=["GET", "POST"])
    def job_form(dataset_id):
        ds = get_dataset(state, dataset_id)
        errors, values = {}, {}
        if request.method == "POST":
            values = request.form
            try:
                spec = forms.parse_job_form(request.form, ds)
            except forms.FormError as exc:
                errors = exc.errors
            else:
                job = state.runner.submit(Job(spec, ds))
                return redirect(url_for("run_page", job_id=job.id), code=303)
        return render_template(
            "job.html",
            step=2,
            ds=ds,
            errors=errors,
            values=values,
            models=forms.MODELS,
            strategies=forms.STRATEGIES,
            estimates=_estimates(ds),
            preset_models={
                kind: {p: forms.preset_model(p, kind) for p in ("fast", "best")}
                for kind in forms.JOB_KINDS
            },
            has_missing=bool(ds.frame.isna().to_numpy().any()),
            pii_chosen=request.form.getlist("pii_columns") if request.method == "POST" else [],
        ), (400 if errors else 200)

    @app.get("/api/estimate/<dataset_id>")
    def estimate(dataset_id):
        ds = get_dataset(state, dataset_id)
        model = request.args.get("model", "copula")
        kind = request.args.get("kind", "synthesize")
        if model.startswith("preset:"):
            model = forms.preset_model(model.split(":", 1)[1], kind)
        if model not in (*forms.MODELS, forms.CHAINED):
            abort(400, f"unknown model {model!r}")
        errors: dict = {}
        epochs = forms.parse_int(request.args, "epochs", errors, "epochs")
        max_time = forms.parse_float(request.args, "max_time", errors, "max_time")
        if errors or model in ("copula", forms.CHAINED):
            epochs = max_time = None
        n, d = ds.frame.shape
        t = estimates.expected_seconds(model, n, d, epochs, max_time)
        return jsonify(model=model, seconds=round(t, 1), text=estimates.describe_seconds(t))

    # -- step 3: the run ----------------------------------------------------------------------
