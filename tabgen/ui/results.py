"""Steps 3 and 4 of the web app: the run page and the status it polls, cancelling, the
results page, the report, and the downloads (table, model file)."""

from __future__ import annotations

import re


def get_job(state, job_id):
    """The job ``job_id`` of this session, or a 404 answer."""
    from flask import abort

    job = state.runner.get(job_id)
    if job is None:
        abort(404, "no such job in this session")
    return job


def _download_name(job, suffix: str) -> str:
    """``<upload's name>-<job><suffix>``, letters, digits, ``-`` and ``_`` only."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", job.dataset.name.split(".")[0]).strip("-")
    return f"{stem or 'table'}-{job.spec.kind}{suffix}"


def register_job_pages(app, state) -> None:
    """Add the routes of steps 3 and 4 to ``app``."""
    from flask import abort, jsonify, redirect, render_template, request, send_file, url_for

    @app.get("/jobs/<job_id>")
    def run_page(job_id):
        job = get_job(state, job_id)
        return render_template(
            "run.html", step=3, job=job, status=job.status(state.runner.position(job))
        )

    @app.get("/api/jobs/<job_id>")
    def job_status(job_id):
        job = get_job(state, job_id)
        return jsonify(job.status(state.runner.position(job)))

    @app.post("/jobs/<job_id>/cancel")
    def cancel(job_id):
        job = get_job(state, job_id)
        state.runner.cancel(job)
        if request.headers.get("X-Requested-With") == "fetch":
            return jsonify(job.status(state.runner.position(job)))
        return redirect(url_for("run_page", job_id=job.id), code=303)

    # -- step 4: the results ------------------------------------------------------------------
    def _done(job_id):
        job = get_job(state, job_id)
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
        if request.args.get("download") == "1":
            return send_file(
                job.result.report_path,
                mimetype="text/html",
                as_attachment=True,
                download_name=_download_name(job, "-report.html"),
            )
        return send_file(job.result.report_path, mimetype="text/html")

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
