"""The Flask application of ``tabgen ui``: four pages (data, job, run, results), a JSON
status endpoint polled by the run page, downloads.

Safety (see ``docs/ui.md``):

* bound to 127.0.0.1 by default; on any other address every request must carry the
  session token (``?token=`` once, then a ``SameSite=Strict`` cookie, or the
  ``X-Tabgen-Token`` header); on a local address, requests naming another host are refused
  (DNS rebinding), and so are posts from another origin;
* uploads are limited in size and stored under server-made names in the private workspace;
  the browser's file name is only displayed and its ending read; no value from the browser
  is ever used as a path;
* every form value is checked on the server (:mod:`tabgen.ui.forms`) with the API's errors;
* model files are written by tabgen's ``save`` and read back only through
  :func:`tabgen.load` (the safe loader) before they are offered.

Flask is imported by :func:`create_app` only, so that importing this module (doctests,
``tabgen --help``) needs no web framework.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import warnings
from urllib.parse import urlsplit

#: The addresses that count as this machine only.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "tabgen_token"
TOKEN_HEADER = "X-Tabgen-Token"


def is_local(host: str) -> bool:
    """Whether binding to ``host`` keeps the app on this machine.

    Examples
    --------
    >>> is_local("127.0.0.1"), is_local("0.0.0.0")
    (True, False)
    """
    return str(host).strip("[]").lower() in LOCAL_HOSTS


class UIState:
    """The session behind the app: workspace, job runner, tables, token.

    Parameters
    ----------
    host : str
        The address the server binds to.
    token : str, optional
        Required on every request when given (and required for a non-local ``host``).
    max_upload_mb : float
        Largest upload accepted.
    workspace_parent : str or Path, optional
        Where the private workspace folder is created.
    """

    def __init__(self, host="127.0.0.1", token=None, max_upload_mb=200.0, workspace_parent=None):
        from tabgen.ui.jobs import JobRunner
        from tabgen.ui.workspace import Workspace

        if not is_local(host) and not token:
            raise ValueError(
                f"host {host!r} is reachable from other machines: a token is required "
                "(--token, or let 'tabgen ui' generate one)"
            )
        if not (isinstance(max_upload_mb, (int, float)) and max_upload_mb > 0):
            raise ValueError(f"max_upload_mb must be a positive number, got {max_upload_mb!r}")
        self.host = host
        self.token = token or None
        self.max_upload_mb = float(max_upload_mb)
        self.workspace = Workspace(workspace_parent)
        self.datasets: dict = {}
        self.downloads: dict = {}  # (job id, what) -> workspace path
        self.lock = threading.Lock()
        self.runner = JobRunner(self._run)

    def _run(self, job):
        from tabgen.ui.tasks import run_job

        return run_job(job, self.workspace)

    def close(self) -> None:
        """Stop the jobs and remove the workspace."""
        try:
            self.runner.close()
        finally:
            self.workspace.close()


def create_app(host="127.0.0.1", token=None, max_upload_mb=200.0, workspace_parent=None):
    """The Flask app of ``tabgen ui`` (see the module docstring).

    Parameters
    ----------
    host : str
        The address the server will bind to (decides whether a token is required).
    token : str, optional
        Session token (required for a non-local ``host``).
    max_upload_mb : float
        Largest upload accepted, in MB.
    workspace_parent : str or Path, optional
        Where to create the private workspace.

    Returns
    -------
    flask.Flask
        ``app.extensions["tabgen_ui"]`` is the :class:`UIState`; call its ``close()`` when
        done (the server does).
    """
    from flask import Flask, abort, jsonify, redirect, render_template, request, send_file, url_for
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    from tabgen.ui import forms
    from tabgen.ui.jobs import Job
    from tabgen.ui.workspace import display_name, table_suffix

    state = UIState(host, token, max_upload_mb, workspace_parent)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = int(state.max_upload_mb * 1024 * 1024)
    app.config["MAX_FORM_MEMORY_SIZE"] = 1024 * 1024
    app.extensions["tabgen_ui"] = state

    # -- safety checks of every request --------------------------------------------------------
    @app.before_request
    def _guard():
        if state.token is None:
            hostname = (urlsplit("//" + request.host).hostname or "").lower()
            if hostname not in LOCAL_HOSTS:
                abort(403, f"requests for host {request.host!r} are refused (local app)")
        else:
            given = (
                request.headers.get(TOKEN_HEADER)
                or request.cookies.get(TOKEN_COOKIE)
                or request.args.get("token")
            )
            if not given or not hmac.compare_digest(str(given), state.token):
                abort(403, "missing or wrong token: open the address 'tabgen ui' printed")
            if request.args.get("token") and request.method == "GET" and request.endpoint:
                # move the token from the address into a cookie, and drop it from the URL
                args = {k: v for k, v in request.args.items() if k != "token"}
                response = redirect(url_for(request.endpoint, **request.view_args, **args))
                response.set_cookie(
                    TOKEN_COOKIE, state.token, httponly=True, samesite="Strict", path="/"
                )
                return response
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin and origin != "null" and urlsplit(origin).netloc != request.host:
                abort(403, f"cross-origin request from {origin!r} refused")

    @app.after_request
    def _headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        if request.endpoint == "report":
            response.headers["Content-Security-Policy"] = (
                "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                "frame-ancestors 'self'; sandbox"
            )
        else:
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; img-src 'self' data:; frame-src 'self'; "
                "frame-ancestors 'none'; form-action 'self'"
            )
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        message = (
            f"the upload is larger than the limit of {state.max_upload_mb:g} MB "
            "(start 'tabgen ui --max-upload-mb N' to raise it)"
        )
        return _index(errors={"file": message}, status=413)

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        if request.path.startswith("/api/"):
            return jsonify(error=exc.description), exc.code
        return render_template("error.html", code=exc.code, message=exc.description), exc.code

    # -- helpers ----------------------------------------------------------------------------
    def _dataset(dataset_id):
        ds = state.datasets.get(dataset_id)
        if ds is None:
            abort(404, "no such table in this session (upload it again)")
        return ds

    def _job(job_id):
        job = state.runner.get(job_id)
        if job is None:
            abort(404, "no such job in this session")
        return job

    def _index(errors=None, status=200):
        datasets = list(state.datasets.values())
        page = render_template(
            "upload.html",
            step=1,
            errors=errors or {},
            max_mb=state.max_upload_mb,
            datasets=datasets,
        )
        return page, status

    def _store(ds) -> None:
        with state.lock:
            state.datasets[ds.id] = ds

    # -- step 1: the data ---------------------------------------------------------------------
    @app.get("/")
    def index():
        return _index()

    @app.post("/upload")
    def upload():
        from tabgen._frames import check_frame
        from tabgen.io import read_table

        file = request.files.get("file")
        if file is None or not file.filename:
            return _index(errors={"file": "choose a CSV or Parquet file to upload"}, status=400)
        name = display_name(file.filename)
        try:
            suffix = table_suffix(file.filename)
        except ValueError as exc:
            return _index(errors={"file": str(exc)}, status=400)
        path = state.workspace.new_path(suffix)
        file.save(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = read_table(path)
            frame = check_frame(frame, what=name)
            if frame.shape[0] == 0 or frame.shape[1] == 0:
                raise ValueError(f"{name!r} has no rows or no columns")
            ds = forms.analyse(secrets.token_hex(8), name, frame)
        except (ValueError, TypeError, OSError) as exc:
            path.unlink(missing_ok=True)
            message = str(exc).replace(repr(str(path)), repr(name)).replace(str(path), name)
            if repr(name) not in message:
                message = f"cannot use {name!r}: {message}"
            return _index(errors={"file": message}, status=400)
        _store(ds)
        return redirect(url_for("data", dataset_id=ds.id), code=303)

    @app.post("/demo")
    def demo():
        from tabgen.datasets import load_adult

        frame = load_adult()
        rows = request.form.get("rows", "5000")
        if rows not in ("5000", "all"):
            return _index(errors={"rows": f"rows must be 5000 or all, got {rows!r}"}, status=400)
        if rows == "5000":
            frame = frame.sample(n=5000, random_state=0).reset_index(drop=True)
        ds = forms.analyse(secrets.token_hex(8), "adult (bundled demo)", frame)
        _store(ds)
        return redirect(url_for("data", dataset_id=ds.id), code=303)

    @app.route("/data/<dataset_id>", methods=["GET", "POST"])
    def data(dataset_id):
        ds = _dataset(dataset_id)
        errors = {}
        if request.method == "POST":
            try:
                forms.apply_column_form(ds, request.form)
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
            kinds=forms.KINDS,
            preview=preview,
            rule_text=forms.rule_text,
        ), (400 if errors else 200)

    # -- step 2: the job ----------------------------------------------------------------------
    def _estimates(ds):
        n, d = ds.frame.shape
        return {m: forms.describe_seconds(forms.expected_seconds(m, n, d)) for m in forms.MODELS}

    @app.route("/data/<dataset_id>/job", methods=["GET", "POST"])
    def job_form(dataset_id):
        ds = _dataset(dataset_id)
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
        ds = _dataset(dataset_id)
        model = request.args.get("model", "copula")
        kind = request.args.get("kind", "synthesize")
        if model.startswith("preset:"):
            model = forms.preset_model(model.split(":", 1)[1], kind)
        if model not in forms.MODELS:
            abort(400, f"unknown model {model!r}")
        errors: dict = {}
        epochs = forms.parse_int(request.args, "epochs", errors, "epochs")
        max_time = forms.parse_float(request.args, "max_time", errors, "max_time")
        if errors or model == "copula":
            epochs = max_time = None
        n, d = ds.frame.shape
        t = forms.expected_seconds(model, n, d, epochs, max_time)
        return jsonify(model=model, seconds=round(t, 1), text=forms.describe_seconds(t))

    # -- step 3: the run ----------------------------------------------------------------------
    @app.get("/jobs/<job_id>")
    def run_page(job_id):
        job = _job(job_id)
        return render_template(
            "run.html", step=3, job=job, status=job.status(state.runner.position(job))
        )

    @app.get("/api/jobs/<job_id>")
    def job_status(job_id):
        job = _job(job_id)
        return jsonify(job.status(state.runner.position(job)))

    @app.post("/jobs/<job_id>/cancel")
    def cancel(job_id):
        job = _job(job_id)
        state.runner.cancel(job)
        if request.headers.get("X-Requested-With") == "fetch":
            return jsonify(job.status(state.runner.position(job)))
        return redirect(url_for("run_page", job_id=job.id), code=303)

    # -- step 4: the results ------------------------------------------------------------------
    def _done(job_id):
        job = _job(job_id)
        if job.state != "done":
            abort(409, f"the job is {job.state}, not done")
        return job

    @app.get("/jobs/<job_id>/result")
    def result(job_id):
        job = _done(job_id)
        return render_template("result.html", step=4, job=job, result=job.result)

    @app.get("/jobs/<job_id>/report")
    def report(job_id):
        job = _done(job_id)
        if job.result.report_path is None:
            abort(404, "this job has no report")
        return send_file(job.result.report_path, mimetype="text/html")

    def _download_name(job, suffix: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", job.dataset.name.split(".")[0]).strip("-")
        return f"{stem or 'table'}-{job.spec.kind}{suffix}"

    @app.get("/jobs/<job_id>/download/<fmt>")
    def download(job_id, fmt):
        from tabgen.io import write_table

        job = _done(job_id)
        if fmt not in ("csv", "parquet"):
            abort(404, f"unknown format {fmt!r}; choose csv or parquet")
        key = (job.id, fmt)
        with state.lock:
            path = state.downloads.get(key)
            if path is None:
                path = write_table(job.result.output, state.workspace.new_path("." + fmt))
                state.downloads[key] = path
        return send_file(path, as_attachment=True, download_name=_download_name(job, "." + fmt))

    @app.post("/jobs/<job_id>/model")
    def download_model(job_id):
        from tabgen.persistence import load

        job = _done(job_id)
        if job.result.model is None:
            abort(404, job.result.model_note or "this job has no model to download")
        key = (job.id, "model")
        with state.lock:
            path = state.downloads.get(key)
            if path is None:
                path = state.workspace.new_path(".tabgen")
                job.result.model.save(path)
                load(path)  # only what the safe loader accepts is offered
                state.downloads[key] = path
        return send_file(
            path,
            as_attachment=True,
            download_name=_download_name(job, ".tabgen"),
            mimetype="application/octet-stream",
        )

    return app
