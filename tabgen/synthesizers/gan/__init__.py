"""Conditional tabular GAN (CTGAN family): layout, condition sampler, generator, critic,
losses, training loop and conditional generation, each in its own module."""

from tabgen.synthesizers.gan.estimator import GANSynthesizer

__all__ = ["GANSynthesizer"]
