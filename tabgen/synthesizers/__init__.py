"""Synthesizers behind one fit/sample contract.

The classes are imported on first use (the neural models import torch; the copula does not).
"""

from tabgen._lazy import lazy_exports

_EXPORTS = {
    "SYNTHESIZERS": "tabgen.synthesizers.registry",
    "BaseSynthesizer": "tabgen.synthesizers.base",
    "Capabilities": "tabgen.synthesizers.capabilities",
    "Conditions": "tabgen.synthesizers.conditions",
    "DiffusionSynthesizer": "tabgen.synthesizers.diffusion.estimator",
    "GANSynthesizer": "tabgen.synthesizers.gan.estimator",
    "GaussianCopulaSynthesizer": "tabgen.synthesizers.copula",
    "VAESynthesizer": "tabgen.synthesizers.vae.estimator",
    "get_synthesizer": "tabgen.synthesizers.registry",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted(_EXPORTS)
