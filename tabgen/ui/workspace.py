"""The private temporary folder of one ``tabgen ui`` session.

Uploads, outputs, reports and model files live here under names the server makes up
(random hex plus a fixed suffix); nothing the browser sends is ever used as a path. The
folder is readable by its owner only and removed by :meth:`Workspace.close`.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

#: What an uploaded file may be, by the end of its name (checked lower-case).
TABLE_SUFFIXES = (".csv.gz", ".csv", ".tsv", ".parquet")

_NAME = re.compile(r"^[0-9a-f]{16}(\.[a-z]+)*$")


def table_suffix(filename: str) -> str:
    """The table suffix of a browser-supplied file name (only the suffix is ever used).

    Raises
    ------
    ValueError
        The name does not end in one of :data:`TABLE_SUFFIXES`.

    Examples
    --------
    >>> table_suffix("../../etc/Data.CSV.gz")
    '.csv.gz'
    """
    lower = str(filename or "").strip().lower()
    for suffix in TABLE_SUFFIXES:
        if lower.endswith(suffix):
            return suffix
    raise ValueError(
        f"unsupported file {display_name(filename)!r}: upload a table ending in "
        + ", ".join(TABLE_SUFFIXES)
    )


def display_name(filename: str) -> str:
    """The last part of a browser-supplied file name, for display only (at most 120
    characters, no folders).

    Examples
    --------
    >>> display_name("..\\\\..\\\\secret/../x.csv")
    'x.csv'
    """
    text = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:120] or "upload"


class Workspace:
    """A private temporary folder; files get server-made names.

    Parameters
    ----------
    parent : str or Path, optional
        Where to create the folder (default: the system's temporary folder).
    """

    def __init__(self, parent=None):
        self.root = Path(tempfile.mkdtemp(prefix="tabgen-ui-", dir=parent)).resolve()
        os.chmod(self.root, 0o700)
        self.closed = False

    def new_path(self, suffix: str) -> Path:
        """A fresh file path inside the workspace ending in ``suffix`` (e.g. ``".csv"``)."""
        self._check_open()
        if not re.fullmatch(r"(\.[a-z]+)+", suffix):
            raise ValueError(f"bad suffix {suffix!r}")
        return self.root / f"{secrets.token_hex(8)}{suffix}"

    def path(self, name: str) -> Path:
        """The path of a file the workspace made, by its name (anything else is refused)."""
        self._check_open()
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"not a workspace file name: {name!r}")
        path = self.root / name
        if path.parent != self.root:
            raise ValueError(f"not a workspace file name: {name!r}")
        return path

    def files(self) -> list[Path]:
        """The files in the workspace."""
        return sorted(p for p in self.root.iterdir() if p.is_file()) if self.root.exists() else []

    def close(self) -> None:
        """Remove the folder and everything in it (idempotent)."""
        self.closed = True
        shutil.rmtree(self.root, ignore_errors=True)

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("the workspace is closed")

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"
