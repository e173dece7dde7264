"""Synthesizers behind one fit/sample contract."""

from tabgen.synthesizers.base import BaseSynthesizer, Conditions
from tabgen.synthesizers.copula import GaussianCopulaSynthesizer
from tabgen.synthesizers.diffusion import DiffusionSynthesizer
from tabgen.synthesizers.gan import GANSynthesizer
from tabgen.synthesizers.registry import SYNTHESIZERS, get_synthesizer
from tabgen.synthesizers.vae import VAESynthesizer

__all__ = [
    "SYNTHESIZERS",
    "BaseSynthesizer",
    "Conditions",
    "DiffusionSynthesizer",
    "GANSynthesizer",
    "GaussianCopulaSynthesizer",
    "VAESynthesizer",
    "get_synthesizer",
]
