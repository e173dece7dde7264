"""``tabgen ui``: a local web app to upload a table, choose a job (synthesize, rebalance,
impute, anonymize), watch it run and download the data, the report and the model.

Needs the ``ui`` extra (``pip install 'tabgen[ui]'``, which brings Flask). Nothing here
imports Flask until :func:`create_app` or :func:`serve` runs. See ``docs/ui.md``.

Modules: :mod:`~tabgen.ui.app` (the Flask app and its safety checks),
:mod:`~tabgen.ui.pages` (steps 1-2: data, job form), :mod:`~tabgen.ui.results` (steps 3-4:
run, results, downloads), :mod:`~tabgen.ui.server` (serving, shutdown, workspace removal),
:mod:`~tabgen.ui.data` (what the first page knows about a table),
:mod:`~tabgen.ui.forms` (the server-side checks of the job form),
:mod:`~tabgen.ui.estimates` (the expected training time),
:mod:`~tabgen.ui.jobs` (the background job queue, progress, cancellation),
:mod:`~tabgen.ui.tasks` (the work of each job), :mod:`~tabgen.ui.workspace` (the private
temporary folder).
"""

from tabgen.ui.app import create_app, is_local
from tabgen.ui.server import UIServer, missing_extra, serve

__all__ = ["UIServer", "create_app", "is_local", "missing_extra", "serve"]
