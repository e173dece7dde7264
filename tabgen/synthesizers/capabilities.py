"""What a synthesizer supports (:class:`Capabilities`), the public protocol for users and for
the pipelines that choose a path by it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a synthesizer supports, for users and for the pipelines that choose a path.

    Read it from the class or an instance: ``GaussianCopulaSynthesizer.capabilities``.

    Attributes
    ----------
    conditions : bool
        ``sample(conditions=...)`` fixes categorical columns (every model).
    numeric_conditions : bool
        Numeric columns can be conditioned on as well (exact values).
    inpainting : bool
        Any set of observed cells conditions a row natively (no rejection):
        :meth:`~tabgen.synthesizers.base.BaseSynthesizer.inpaint` and imputation need it.
    row_conditions : bool
        Conditions may differ per row (NaN marks a free cell), sampled in one call rather
        than grouped by which columns are fixed.
    differential_privacy : bool
        The model has a differentially private mode (``epsilon=``).
    streaming_fit : bool
        ``fit(path)`` trains by minibatches off a disk-backed matrix instead of loading the
        encoded table into memory.
    data_parallel : bool
        ``fit`` trains data-parallel under ``torchrun`` (``python -m tabgen.scale.train_ddp``).
    postprocessors : tuple of str
        The post-processors a fit learns by default (``postprocess="default"``); every
        model accepts any of :data:`tabgen.synthesizers.postprocess.REGISTRY` through its
        ``postprocess`` parameter.

    Examples
    --------
    >>> from tabgen import GaussianCopulaSynthesizer
    >>> GaussianCopulaSynthesizer.capabilities.inpainting
    True
    >>> GaussianCopulaSynthesizer.capabilities.postprocessors
    ()
    """

    conditions: bool
    numeric_conditions: bool
    inpainting: bool
    row_conditions: bool
    differential_privacy: bool
    streaming_fit: bool
    data_parallel: bool
    postprocessors: tuple = ()


class CapabilitiesOf:
    """Descriptor: the :class:`Capabilities` of the class it is read from (or of an
    instance's class), derived from the class's declarations (the ``_numeric_conditions``,
    ``_supports_inpainting``, ``_row_conditions``, ``_streams_training_data`` and
    ``_supports_data_parallel`` flags a model sets, its ``default_postprocessors`` and an
    ``epsilon`` parameter)."""

    def __get__(self, obj, owner) -> Capabilities:
        return Capabilities(
            conditions=True,
            numeric_conditions=bool(owner._numeric_conditions),
            inpainting=bool(owner._supports_inpainting),
            row_conditions=bool(owner._row_conditions),
            differential_privacy="epsilon" in owner._get_param_names(),
            streaming_fit=bool(owner._streams_training_data),
            data_parallel=bool(owner._supports_data_parallel),
            postprocessors=tuple(owner.default_postprocessors),
        )
