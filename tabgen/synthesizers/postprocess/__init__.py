"""Post-processors: steps learnt from the training rows after a model's own fit, applied to
the rows it generates.

Every synthesizer takes the parameter ``postprocess``: ``"default"`` (the default) runs the
post-processors its class lists in :attr:`PostProcessing.default_postprocessors` (also
reported as ``capabilities.postprocessors``), and a sequence of names runs those instead
(``()``: none). Any model can run any of them; they run in this order:

``"snap"``
    numbers with few distinct training values are moved to the nearest of them
    (:class:`~tabgen.synthesizers.postprocess.structure.SnapToSupports`);
``"dependencies"``
    a column fixed by the level of a categorical column follows it
    (:class:`~tabgen.synthesizers.postprocess.structure.CategoryDependencies`);
``"selection"``
    several candidates are drawn per row and one is kept by a discriminator's density
    ratio (:class:`~tabgen.synthesizers.postprocess.selection.DiscriminatorSelection`);
``"conditionals"``
    two-level categorical columns of unconditional rows are drawn again from boosted trees'
    probability of each level given the rest of the row
    (:class:`~tabgen.synthesizers.postprocess.conditionals.BinaryConditionals`);
``"pii"`` (every model)
    e-mail, phone, name, address ... columns get fresh fake values
    (:class:`~tabgen.synthesizers.postprocess.pii.RegeneratePII`).

A post-processor is an object with

``fit(real, model, rng) -> self or None``
    learn from the training rows ``real`` as decoded frames (for a fit from a file, the
    uniform sample the encoders were fitted on) and the fitted ``model``; ``None``: nothing
    learnt, the step is dropped;
``apply(frame, conditions) -> frame``
    change generated rows in place, leaving the cells fixed by ``conditions`` alone;
``get_state() -> (json, arrays)`` and ``from_state(json, arrays)``
    its part of the model file, under the key ``name`` (arrays named ``name.*``).

:class:`PostProcessing` (a base of every synthesizer) fits them after ``_fit``, applies them
after decoding, and reads and writes their state. A differentially private fit fits none
(they would read the rows outside the privacy accounting): there ``postprocess="default"``
means none, and naming some is an error.
"""

from __future__ import annotations

import importlib

import numpy as np

#: Post-processor name -> (module, class, the class's ``name``: its key in a model file).
REGISTRY = {
    "snap": ("structure", "SnapToSupports", "supports"),
    "dependencies": ("structure", "CategoryDependencies", "dependencies"),
    "selection": ("selection", "DiscriminatorSelection", "discriminator"),
    "conditionals": ("conditionals", "BinaryConditionals", "conditionals"),
    "pii": ("pii", "RegeneratePII", "pii"),
}


def check_postprocess(value, private: bool = False) -> tuple:
    """The post-processor names a ``postprocess`` parameter asks for (``None``: the model's
    defaults); raises ``ValueError`` for anything but ``"default"`` or a sequence of
    distinct names of :data:`REGISTRY`, and for names with ``private`` (a DP fit).

    Examples
    --------
    >>> check_postprocess(["snap"]), check_postprocess("default")
    (('snap',), None)
    """
    if isinstance(value, str):
        if value == "default":
            return None
        raise ValueError(f"postprocess must be 'default' or a list of names, got {value!r}")
    try:
        names = tuple(value)
    except TypeError:
        raise ValueError(
            f"postprocess must be 'default' or a list of names, got {value!r}"
        ) from None
    for name in names:
        if not isinstance(name, str) or name not in REGISTRY:
            raise ValueError(
                f"postprocess: unknown post-processor {name!r}; known: {list(REGISTRY)}"
            )
    if len(set(names)) < len(names):
        raise ValueError(f"postprocess names a post-processor twice: {list(names)}")
    if names and private:
        raise ValueError(
            f"postprocess={list(names)} with epsilon: post-processors read the training rows "
            "outside the privacy accounting, so a differentially private fit runs none"
        )
    return names


def postprocessor_class(name: str):
    """The class registered under ``name``."""
    if name not in REGISTRY:
        raise ValueError(f"unknown post-processor {name!r}; known: {sorted(REGISTRY)}")
    module, cls, _ = REGISTRY[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


class PostProcessing:
    """Mixin of :class:`~tabgen.synthesizers.base.BaseSynthesizer`: the post-processors of a
    model (see the module docstring)."""

    #: Names of the post-processors a fit learns with ``postprocess="default"`` (see
    #: :data:`REGISTRY`; they run in its order). Public: ``capabilities.postprocessors``.
    default_postprocessors: tuple = ()
    #: Whether the model's ``_sample`` does the candidate selection itself (the GAN does,
    #: inside its generation loop); otherwise :meth:`_draw` does it around ``_sample``.
    _selects_natively: bool = False

    def _postprocessor_names(self) -> tuple:
        """The names the ``postprocess`` parameter chooses."""
        chosen = check_postprocess(getattr(self, "postprocess", "default"))
        return tuple(self.default_postprocessors) if chosen is None else chosen

    def _postprocess_rng(self, rng) -> np.random.Generator:
        """Generator of the post-processors' fits, drawn from the fit's stream."""
        return np.random.default_rng(int(rng.integers(0, 2**63 - 1)))

    def _learns_rows(self) -> bool:
        """Whether the fitted model generates anything learnt (not only constants / ids)."""
        return self.encoder_.output_dim_ > 0

    def _fit_postprocessors(self, real, rng) -> None:
        """Fit the declared post-processors on the training rows ``real`` in the order of
        :data:`REGISTRY`, each seeing the rows generated with the ones before it
        (``real=None``: none). ``rng``: the fit's generator."""
        self.postprocessors_ = []
        if real is None:
            return
        rng = self._postprocess_rng(rng)
        names = dict.fromkeys((*self._postprocessor_names(), "pii"))  # "pii": every model
        for name in sorted(names, key=list(REGISTRY).index):
            step = postprocessor_class(name)().fit(real, self, rng)
            if step is not None:
                self.postprocessors_.append(step)

    def _postprocessor(self, key: str):
        """The fitted post-processor stored under ``key``, or ``None``."""
        for step in getattr(self, "postprocessors_", ()):
            if step.name == key:
                return step
        return None

    def _after_decode(self, result, conditions, before: str | None = None):
        """Apply the post-processors to decoded rows (``conditions``: one row per result row,
        NaN where free; ``None``: unconditional). Returns ``result`` (changed in place).
        ``before``: only the steps ahead of the one stored under that key (the selection
        scores rows as the steps before it leave them)."""
        for step in self._steps_before(before):
            result = step.apply(result, conditions)
        return result

    def _steps_before(self, key: str | None) -> list:
        """The fitted post-processors in order, up to the one stored under ``key`` (where it
        is not there: those registered before it; all of them for ``None``)."""
        steps = list(getattr(self, "postprocessors_", ()))
        names = [step.name for step in steps]
        if key is None:
            return steps
        if key in names:
            return steps[: names.index(key)]
        order = [entry[2] for entry in REGISTRY.values()]
        if key not in order:
            return steps
        return [s for s in steps if s.name not in order or order.index(s.name) < order.index(key)]

    def _encoder_units(self, Z: np.ndarray) -> np.ndarray:
        """Rows of ``_sample`` in the table encoder's units (what ``_decode`` decodes)."""
        return Z

    def _draw(self, n: int, conditions, rng) -> np.ndarray:
        """``_sample``, through the candidate selection when there is one (not for rows being
        completed: ``conditions.completes``)."""
        selection = self._postprocessor("discriminator")
        completes = conditions is not None and conditions.completes
        if selection is None or self._selects_natively or completes:
            return self._sample(n, conditions, rng)
        return selection.draw(self, n, conditions, rng)

    # -- persistence ------------------------------------------------------------------------
    def _file_state(self) -> tuple[dict, dict]:
        """The model's state for :mod:`tabgen.persistence`, with the post-processors' and the
        privacy report."""
        state, arrays = self._get_state()
        state, arrays = dict(state), dict(arrays)
        for step in getattr(self, "postprocessors_", ()):
            state[step.name], extra = step.get_state()
            arrays.update(extra)
        if hasattr(self, "privacy_"):
            state["privacy"] = self.privacy_
        if getattr(self, "constraints_", None) is not None:
            state["constraints"] = self.constraints_.get_state()
        return state, arrays

    def _load_file_state(self, state: dict, arrays: dict) -> None:
        """Inverse of :meth:`_file_state` (files written before post-processors were shared
        hold the GAN's under the same keys)."""
        keys = {entry[2]: name for name, entry in REGISTRY.items()}
        prefixes = tuple(f"{key}." for key in keys)  # the post-processors' arrays
        self._set_state(state, {k: v for k, v in arrays.items() if not k.startswith(prefixes)})
        # only the classes the file holds are imported (the discriminator's imports torch)
        self.postprocessors_ = [
            postprocessor_class(name).from_state(state[key], arrays)
            for key, name in keys.items()
            if state.get(key) is not None
        ]
        if "privacy" in state:
            self.privacy_ = dict(state["privacy"])
        if state.get("constraints") is not None:
            from tabgen.constraints import ConstraintSet

            self.constraints_ = ConstraintSet.from_state(state["constraints"])
            self.constraints = list(self.constraints_.rules)

    # -- fitted attributes of the post-processors -------------------------------------------
    @property
    def supports_(self) -> dict:
        """``{column: training values}`` snapped to (``{}`` without ``"snap"``)."""
        step = self._postprocessor("supports")
        return {} if step is None else step.found

    @property
    def dependencies_(self) -> list:
        """``[(column, determinant, {level: value})]`` kept (``[]`` without them)."""
        step = self._postprocessor("dependencies")
        return [] if step is None else step.found

    @property
    def discriminator_(self):
        """The row discriminator of the selection (``None`` without it)."""
        step = self._postprocessor("discriminator")
        return None if step is None else step.model

    @property
    def discriminator_info_(self) -> dict:
        """Its training epochs and held-out log-loss (``log 2``: it cannot tell the sides),
        and ``"trees"``: the number of trees of its second stage, where it has one."""
        step = self._postprocessor("discriminator")
        return {} if step is None else step.info
