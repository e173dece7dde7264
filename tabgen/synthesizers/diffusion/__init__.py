"""Mixed-type diffusion synthesizer: schedule, noising process, network, sampler, estimator."""

from tabgen.synthesizers.diffusion.estimator import PRESETS, DiffusionSynthesizer

__all__ = ["PRESETS", "DiffusionSynthesizer"]
