"""Conditional tabular VAE: layout, condition vectors, encoder, decoder, loss, loop, estimator."""

from tabgen.synthesizers.vae.estimator import VAESynthesizer

__all__ = ["VAESynthesizer"]
