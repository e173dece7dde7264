"""Lazy attributes for package ``__init__`` modules (PEP 562).

A package lists its public names with the module that defines each; the module is imported
the first time the name is read. ``import tabgen`` thus stays cheap and never imports torch
unless a neural model is used.
"""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__getattr__, __dir__)`` for the package named ``package``.

    Parameters
    ----------
    package : str
        ``__name__`` of the package.
    exports : dict
        Public name -> defining module (absolute) or ``"module:attribute"`` when the
        attribute's name there differs; a name whose module is ``package.name`` itself
        (a subpackage) is that module.

    Returns
    -------
    tuple
        The module-level ``__getattr__`` and ``__dir__`` functions.
    """

    def __getattr__(name: str):
        try:
            target = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name)
        if module_name == f"{package}.{name}" and not attribute:
            value = module
        else:
            value = getattr(module, attribute or name)
        setattr(sys.modules[package], name, value)  # later reads skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
