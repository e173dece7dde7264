"""Parameter descriptions that several synthesizers share, written once.

A class docstring holds the line ``[DP parameters]`` where its ``delta``,
``max_grad_norm`` (neural models only) and ``domain`` entries belong;
:func:`dp_parameters` writes them there.
"""

from __future__ import annotations

_MARKER = "[DP parameters]"


def _entries(rest: str, clipped: str | None) -> list[str]:
    lines = [
        "delta : float, optional",
        "    Defaults to ``min(1e-5, 1/(n*sqrt(n)))``; must be below ``1/n``. A tenth goes to the",
        f"    thresholded category sets (when some are not public), the rest to {rest}.",
    ]
    if clipped is not None:
        lines += [
            "max_grad_norm : float, default=1.0",
            f"    Per-sample gradient clipping norm of {clipped} (only with ``epsilon``).",
        ]
    return [
        *lines,
        "domain : dict, optional",
        '    Public domain, ``{"age": (17, 90), "sex": ["Male", "Female"]}``: declared bounds and',
        "    category lists cost no budget (see :class:`~tabgen.privacy.PrivateDomain`). Only",
        "    with ``epsilon``.",
    ]


def dp_parameters(rest: str = "DP-SGD", clipped: str | None = "DP-SGD"):
    """Class decorator: replace the docstring's ``[DP parameters]`` line by the entries of
    ``delta`` (the budget beyond the category sets goes to ``rest``), ``max_grad_norm``
    (the clipping of ``clipped``; left out when ``None``) and ``domain``."""

    def decorate(cls):
        doc = cls.__doc__ or ""
        for line in doc.splitlines():
            if line.strip() == _MARKER:
                indent = line[: len(line) - len(line.lstrip())]
                block = "\n".join(indent + entry for entry in _entries(rest, clipped))
                cls.__doc__ = doc.replace(line, block, 1)
                return cls
        raise ValueError(f"{cls.__name__}'s docstring has no {_MARKER} line")

    return decorate
