"""One output policy for everything tabgen writes.

Every writer (tables, streamed samples, model files, HTML/JSON reports, the CLI's files)
goes through the two functions of this module:

:func:`check_output`
    called **before** any fitting or sampling work: refuses an output that is one of the
    inputs (always), an existing file unless ``overwrite=True``, a folder, a name whose
    format the writer does not support, a missing or read-only folder.
:func:`atomic_path`
    the file is written under a temporary name in the same folder and renamed into place
    (:func:`os.replace`) only when complete, so an interruption leaves either the old file
    or nothing, never a truncated file that reads as a shorter table.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

_TMP_PREFIX = ".tabgen-tmp-"


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same file (links and ``..`` resolved)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_not_input(path, inputs: Iterable = ()) -> Path:
    """Refuse an output ``path`` that names one of ``inputs`` (links and ``..`` resolved).

    Raises
    ------
    ValueError
        ``path`` is the same file as one of ``inputs``.
    """
    path = Path(path)
    for source in inputs:
        if source is not None and _same_file(path, Path(source)):
            raise ValueError(
                f"the output {str(path)!r} is also an input of this command; choose another "
                "output name (an input is never overwritten, even with overwrite=True)"
            )
    return path


def check_output(
    path,
    *,
    overwrite: bool = False,
    inputs: Iterable = (),
    check_format: Callable[[Path], object] | None = None,
    parents: bool = False,
) -> Path:
    """Check that ``path`` may be written, before any work is done.

    Parameters
    ----------
    path : str or Path
        The file to write.
    overwrite : bool, default=False
        Allow replacing an existing file.
    inputs : iterable of str or Path, optional
        Files the same command reads; ``path`` may never be one of them, even with
        ``overwrite=True``.
    check_format : callable, optional
        Called with ``path``; raises ``ValueError`` when the writer cannot produce that
        format (for example :func:`tabgen.io._format` for tables).
    parents : bool, default=False
        Create missing parent folders (otherwise a missing folder is an error).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        ``path`` is one of ``inputs``, or its format is not supported.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    IsADirectoryError, NotADirectoryError, FileNotFoundError, PermissionError
        ``path`` is a folder; its parent is not a folder, is missing or is not writable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output(folder / "new.csv").name
    'new.csv'
    >>> _ = (folder / "old.csv").write_text("a\\n1\\n")
    >>> check_output(folder / "old.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileExistsError: '.../old.csv' exists; pass overwrite=True (--overwrite) to replace it
    """
    path = check_not_input(path, inputs)
    if path.is_dir():
        raise IsADirectoryError(f"the output {str(path)!r} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{str(path)!r} exists; pass overwrite=True (--overwrite) to replace it"
        )
    if check_format is not None:
        check_format(path)
    folder = path.parent
    if parents and not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise type(exc)(f"cannot create the folder {str(folder)!r}: {reason}") from None
    if not folder.exists():
        raise FileNotFoundError(f"the folder {str(folder)!r} of the output does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} (the output's folder) is not a folder")
    try:
        probe = _temp_name(path)
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PermissionError(f"cannot write in the folder {str(folder)!r}: {reason}") from None
    return path


def _temp_name(path: Path) -> Path:
    """A fresh hidden name beside ``path`` that keeps its suffixes (``.csv.gz`` stays
    recognisable to writers that infer the compression from the name)."""
    return path.with_name(f"{_TMP_PREFIX}{secrets.token_hex(6)}-{path.name}")


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or a folder) to disk; best effort."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Write a file under a temporary name and rename it onto ``path`` when done.

    The body of the ``with`` block writes the yielded temporary path (in the same folder as
    ``path``, so the rename is atomic). On normal exit the file is flushed to disk and
    renamed onto ``path`` with :func:`os.replace`; on an exception it is removed and
    ``path`` is left as it was. A process killed in the middle leaves at most a hidden
    ``.tabgen-tmp-*`` file beside ``path``, never a truncated ``path``.

    Parameters
    ----------
    path : str or Path
        The final file. Its folder must exist (see :func:`check_output`).

    Yields
    ------
    pathlib.Path
        The temporary file to write (created empty, with the default permissions).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    tmp = _temp_name(path)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync(path.parent)


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`)."""
    return write_bytes(path, text.encode("utf-8"))
