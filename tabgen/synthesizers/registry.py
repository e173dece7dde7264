"""Explicit registry of synthesizers: short names for the CLI, class names for model files.

Every synthesizer is listed here (no module scanning); the common test suite runs over it.
"""

from __future__ import annotations

from tabgen.synthesizers.copula import GaussianCopulaSynthesizer
from tabgen.synthesizers.diffusion import DiffusionSynthesizer
from tabgen.synthesizers.gan import GANSynthesizer
from tabgen.synthesizers.vae import VAESynthesizer

#: Short name -> class. New models are added here.
SYNTHESIZERS: dict[str, type] = {
    "copula": GaussianCopulaSynthesizer,
    "diffusion": DiffusionSynthesizer,
    "gan": GANSynthesizer,
    "vae": VAESynthesizer,
}


def get_synthesizer(name: str) -> type:
    """The class registered under the short ``name`` (e.g. ``"copula"``)."""
    try:
        return SYNTHESIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; available models: {', '.join(sorted(SYNTHESIZERS))}"
        ) from None


def class_by_name(class_name: str) -> type:
    """The registered class whose ``__name__`` is ``class_name`` (used when loading files)."""
    for cls in SYNTHESIZERS.values():
        if cls.__name__ == class_name:
            return cls
    raise ValueError(f"model class {class_name!r} is not a registered tabgen synthesizer")
