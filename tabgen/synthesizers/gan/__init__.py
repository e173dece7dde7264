"""Conditional tabular GAN (CTGAN family): layout, condition sampler, generator, critic,
losses, training loop, conditional generation and the discriminator selection of generated
rows (``refine``), each in its own module."""

from tabgen.synthesizers.gan.estimator import GANSynthesizer

__all__ = ["GANSynthesizer"]
