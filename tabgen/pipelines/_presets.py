"""``preset=`` of the pipelines: a named choice of generative model, documented by benchmark.

Every pipeline takes ``preset="fast"`` (the Gaussian copula: seconds on a CPU) or
``preset="best"`` (the model that won the pipeline's benchmark in ``benchmarks/RESULTS.md``);
``preset=None`` keeps the pipeline's default, and a ``synthesizer`` given explicitly excludes
a preset. :class:`~tabgen.pipelines.SyntheticImputer` has its own presets (``"chained"``,
``"fast"``, ``"diffusion"``).
"""

from __future__ import annotations

#: Pipeline -> preset -> registered model name.
PRESETS = {
    "SyntheticOverSampler": {"fast": "copula", "best": "diffusion"},
    "Anonymizer": {"fast": "copula", "best": "vae"},
}


def preset_synthesizer(pipeline, preset, synthesizer):
    """The unfitted synthesizer ``preset`` names for ``pipeline`` (a class name), ``synthesizer``
    itself when no preset is given, or None (the pipeline's default).

    Examples
    --------
    >>> type(preset_synthesizer("Anonymizer", "fast", None)).__name__
    'GaussianCopulaSynthesizer'
    >>> preset_synthesizer("Anonymizer", None, None) is None
    True
    """
    if preset is None:
        return synthesizer
    choices = PRESETS[pipeline]
    if preset not in choices:
        raise ValueError(f"preset must be one of {sorted(choices)} or None, got {preset!r}")
    if synthesizer is not None:
        raise ValueError(
            f"give preset or synthesizer, not both (preset={preset!r}, "
            f"synthesizer={type(synthesizer).__name__})"
        )
    from tabgen.synthesizers.registry import get_synthesizer

    return get_synthesizer(choices[preset])()


def without_selection(model):
    """``model`` with its default post-processors less the candidate selection and the
    binary conditionals (in place).

    The pipelines' own models complete given rows (imputation) or are filtered by the
    pipeline's own density-ratio pick (over-sampling), so the selection's discriminator
    would cost a fit and, for the over-sampler, ``draws`` times the sampling, without a
    measured gain (benchmarks/RESULTS.md measured both pipelines without it). A model whose
    ``postprocess`` is not ``"default"`` is left as it is.

    Examples
    --------
    >>> from tabgen import DiffusionSynthesizer
    >>> without_selection(DiffusionSynthesizer()).postprocess
    ['dependencies']
    """
    defaults = tuple(getattr(model, "default_postprocessors", ()))
    skip = ("selection", "conditionals")  # both act on unconditional rows only
    if set(skip) & set(defaults) and model.get_params().get("postprocess") == "default":
        model.set_params(postprocess=[name for name in defaults if name not in skip])
    return model
