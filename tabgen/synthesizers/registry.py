"""Explicit registry of synthesizers: short names for the CLI, class names for model files.

Every synthesizer is listed here by import path (no module scanning); the common test suite
runs over it. A class is imported the first time it is looked up, so that listing the
models (``tabgen --help``) or loading a copula never imports the neural models (and torch).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

#: Short name -> ``"module:ClassName"``. New models are added here.
_PATHS: dict[str, str] = {
    "copula": "tabgen.synthesizers.copula:GaussianCopulaSynthesizer",
    "diffusion": "tabgen.synthesizers.diffusion.estimator:DiffusionSynthesizer",
    "gan": "tabgen.synthesizers.gan.estimator:GANSynthesizer",
    "vae": "tabgen.synthesizers.vae.estimator:VAESynthesizer",
}


def import_path(path: str):
    """The object named by ``"package.module:Name"``, importing its module."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class LazyRegistry(Mapping):
    """Read-only mapping ``short name -> class`` that imports a class on first access.

    Examples
    --------
    >>> registry = LazyRegistry({"copula": "tabgen.synthesizers.copula:GaussianCopulaSynthesizer"})
    >>> sorted(registry)
    ['copula']
    >>> registry["copula"].__name__
    'GaussianCopulaSynthesizer'
    """

    def __init__(self, paths: dict[str, str]):
        self._paths = dict(paths)

    def __getitem__(self, name: str) -> type:
        return import_path(self._paths[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def class_names(self) -> dict[str, str]:
        """Class ``__name__`` -> short name, read from the paths (nothing is imported)."""
        return {path.rpartition(":")[2]: name for name, path in self._paths.items()}

    def __repr__(self) -> str:
        return f"LazyRegistry({self._paths!r})"


#: Short name -> class (imported on first access).
SYNTHESIZERS: Mapping[str, type] = LazyRegistry(_PATHS)


def get_synthesizer(name: str) -> type:
    """The class registered under the short ``name`` (e.g. ``"copula"``)."""
    if name not in SYNTHESIZERS:
        raise ValueError(
            f"unknown model {name!r}; available models: {', '.join(sorted(SYNTHESIZERS))}"
        )
    return SYNTHESIZERS[name]


def class_by_name(class_name: str) -> type:
    """The registered class whose ``__name__`` is ``class_name`` (used when loading files);
    only that class's module is imported."""
    name = SYNTHESIZERS.class_names().get(class_name)
    if name is None:
        raise ValueError(f"model class {class_name!r} is not a registered tabgen synthesizer")
    return SYNTHESIZERS[name]
