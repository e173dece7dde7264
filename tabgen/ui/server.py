"""Serve the app with Werkzeug's threaded WSGI server (the one Flask ships with), open the
browser, and remove the workspace on the way out (Ctrl+C, SIGTERM, or :meth:`UIServer.stop`).
"""

from __future__ import annotations

import atexit
import secrets
import signal
import sys
import threading
import webbrowser

from tabgen.ui.app import create_app, is_local


def missing_extra() -> str | None:
    """A message naming what is missing when the ``ui`` extra is not installed, else
    ``None``."""
    try:
        import flask  # noqa: F401
    except ImportError:
        return (
            "tabgen ui needs the 'ui' extra (Flask): pip install 'tabgen[ui]' "
            "(or pip install flask)"
        )
    return None


def new_token() -> str:
    """A fresh random session token."""
    return secrets.token_urlsafe(24)


class UIServer:
    """The app behind a Werkzeug server on ``host:port`` (``port=0``: a free port).

    Parameters
    ----------
    host, port, token, max_upload_mb, workspace_parent
        See :func:`serve` and :func:`tabgen.ui.create_app`.
    """

    def __init__(self, host="127.0.0.1", port=8765, token=None, max_upload_mb=200.0,
                 workspace_parent=None):  # fmt: skip
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            """Logs failed requests only (the run page polls four times a second)."""

            def log_request(self, code="-", size="-"):
                if str(code).isdigit() and int(code) >= 400:
                    super().log_request(code, size)

        self.app = create_app(host, token, max_upload_mb, workspace_parent)
        self.state = self.app.extensions["tabgen_ui"]
        try:
            self.server = make_server(
                host, port, self.app, threaded=True, request_handler=QuietHandler
            )
        except SystemExit:  # Werkzeug exits (after saying why) when it cannot bind
            self.state.close()
            raise OSError(f"cannot serve on {host}:{port} (see the message above)") from None
        except BaseException:
            self.state.close()
            raise
        self.host, self.port, self.token = host, self.server.port, token
        self._thread = None
        self._stopped = False
        atexit.register(self.stop)

    @property
    def url(self) -> str:
        """The address to open (with the token when there is one)."""
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/" + (f"?token={self.token}" if self.token else "")

    @property
    def workspace(self):
        return self.state.workspace.root

    def serve_forever(self) -> None:
        """Serve until :meth:`stop` (or Ctrl+C), then stop."""
        try:
            self.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def start(self) -> UIServer:
        """Serve in a background thread (tests, notebooks)."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="tabgen-ui-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, stop the jobs and remove the workspace (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._thread is not None:
                self.server.shutdown()
                self._thread.join(10)
            self.server.server_close()
        finally:
            self.state.close()


def serve(host="127.0.0.1", port=8765, token=None, open_browser=True, max_upload_mb=200.0,
          out=None, debug=False) -> int:  # fmt: skip
    """Run ``tabgen ui`` until interrupted; return the exit status.

    Parameters
    ----------
    host : str
        Address to bind; anything but 127.0.0.1/localhost/::1 needs a token (one is generated
        and printed when ``token`` is not given).
    port : int
        Port (0: any free port).
    token : str, optional
        Session token checked on every request.
    open_browser : bool
        Open the address in the default browser.
    max_upload_mb : float
        Largest upload accepted.
    out : file, optional
        Where the address is printed (default: stdout).
    debug : bool
        Print the traceback of a failed job on stderr (the page shows its message).
    """
    out = out or sys.stdout
    if debug:
        import logging

        log = logging.getLogger("tabgen.ui")
        log.setLevel(logging.DEBUG)
        log.addHandler(logging.StreamHandler(sys.stderr))
    if not is_local(host) and not token:
        token = new_token()
        print(f"tabgen ui: {host} is reachable from other machines; generated token: {token}",
              file=out)  # fmt: skip
    server = UIServer(host, port, token, max_upload_mb)
    print(f"tabgen ui: serving on {server.url}", file=out)
    print(f"tabgen ui: private workspace {server.workspace} (removed on exit; Ctrl+C stops)",
          file=out, flush=True)  # fmt: skip

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(server.url,)).start()
        server.serve_forever()
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print("tabgen ui: stopped; workspace removed", file=out, flush=True)
    return 0
