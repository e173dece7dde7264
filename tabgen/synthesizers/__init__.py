"""Synthesizers behind one fit/sample contract."""

from tabgen.synthesizers.base import BaseSynthesizer, Conditions
from tabgen.synthesizers.copula import GaussianCopulaSynthesizer
from tabgen.synthesizers.registry import SYNTHESIZERS, get_synthesizer

__all__ = [
    "SYNTHESIZERS",
    "BaseSynthesizer",
    "Conditions",
    "GaussianCopulaSynthesizer",
    "get_synthesizer",
]
