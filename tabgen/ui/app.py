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

The pages are in :mod:`~tabgen.ui.pages` (steps 1 and 2) and :mod:`~tabgen.ui.results`
(steps 3 and 4). Flask is imported by :func:`create_app` only, so that importing this module
(doctests, ``tabgen --help``) needs no web framework.
"""

from __future__ import annotations

import hmac
import threading
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
    from flask import Flask, abort, jsonify, redirect, render_template, request, url_for
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    from tabgen.ui.pages import register_data_pages, render_index
    from tabgen.ui.results import register_job_pages

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
            origin = request.headers.get("Origin")  # "null": a sandboxed or file: page
            if origin and (origin == "null" or urlsplit(origin).netloc != request.host):
                abort(403, f"cross-origin request from {origin!r} refused")

    @app.after_request
    def _headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # "no-referrer" makes Origin null
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
        return render_index(state, errors={"file": message}, status=413)

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        if request.path.startswith("/api/"):
            return jsonify(error=exc.description), exc.code
        return render_template("error.html", code=exc.code, message=exc.description), exc.code

    register_data_pages(app, state)
    register_job_pages(app, state)
    return app
