"""Conditional tabular GAN (CTGAN family): layout, condition sampler, generator, critic,
losses, training loop and conditional generation, each in its own module (the selection of
generated rows is a shared post-processor: :mod:`tabgen.synthesizers.postprocess`)."""

from tabgen.synthesizers.gan.estimator import GANSynthesizer

__all__ = ["GANSynthesizer"]
