"""Constructor parameters of tabgen's estimators: stored as given (scikit-learn's contract)."""

from __future__ import annotations


def store_params(estimator, arguments: dict) -> None:
    """Store each constructor argument on ``estimator``, unchanged, under its own name.

    Call it first thing in ``__init__`` with ``locals()``: then ``arguments`` holds exactly
    the constructor's parameters (and ``self``), so ``get_params``, ``set_params`` and
    ``clone`` behave as with one assignment per parameter, and nothing else happens in
    ``__init__``.

    Examples
    --------
    >>> class Model:
    ...     def __init__(self, *, epochs=10, lr=1e-3):
    ...         store_params(self, locals())
    >>> vars(Model(lr=0.5))
    {'epochs': 10, 'lr': 0.5}
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
