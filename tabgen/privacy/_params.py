"""Validation of the DP constructor parameters shared by the synthesizers."""

from __future__ import annotations

import numbers

from tabgen.privacy._mechanisms import check_epsilon


def check_dp_params(model) -> None:
    """``epsilon`` positive (or ``None``); ``delta`` and ``domain`` only together with it;
    with ``epsilon``, ``max_grad_norm`` (models trained by DP-SGD) a positive number."""
    epsilon = getattr(model, "epsilon", None)
    if epsilon is None:
        for name in ("delta", "domain"):
            if getattr(model, name, None) is not None:
                raise ValueError(
                    f"{name}={getattr(model, name)!r} only applies to a differentially private "
                    "fit; set epsilon as well"
                )
        return
    check_epsilon(epsilon)
    domain = getattr(model, "domain", None)
    if domain is not None and not isinstance(domain, dict):
        raise TypeError(f"domain must be a dict {{column: bounds or values}}, got {domain!r}")
    norm = getattr(model, "max_grad_norm", 1.0)
    if not isinstance(norm, numbers.Real) or isinstance(norm, bool) or not norm > 0:
        raise ValueError(f"max_grad_norm must be a positive number, got {norm!r}")


#: Synthesizers with a differentially private mode (``epsilon=``).
DP_SYNTHESIZERS = (
    "GaussianCopulaSynthesizer",
    "VAESynthesizer",
    "GANSynthesizer",
    "DiffusionSynthesizer",
)


def check_dp_support(model) -> None:
    """Raise a ``ValueError`` naming the supported models when ``model`` has no DP mode.

    Examples
    --------
    >>> from tabgen import GaussianCopulaSynthesizer
    >>> check_dp_support(GaussianCopulaSynthesizer())
    """
    if "epsilon" not in model.get_params():
        raise ValueError(
            f"{type(model).__name__} has no differentially private mode (epsilon=); "
            f"supported: {', '.join(DP_SYNTHESIZERS)}"
        )
