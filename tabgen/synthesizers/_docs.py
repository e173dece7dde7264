"""Parameter descriptions that several synthesizers share, written once.

A class docstring holds marker lines where shared entries belong; :func:`shared_parameters`
writes them there, with the marker's indentation:

``[common parameters]``
    ``schema``, ``constraints`` and ``constraint_violations`` (every synthesizer);
``[postprocess parameter]``
    ``postprocess`` (every synthesizer; the last parameter);
``[training parameters]``
    ``max_time``, ``device``, ``verbose`` and ``random_state`` (the neural models);
``[DP parameters]``
    ``delta``, ``max_grad_norm`` (neural models only) and ``domain``;
``[fitted attributes]``
    ``schema_`` and ``postprocessors_`` (every synthesizer);
``[training attributes]``
    ``device_``, ``n_epochs_`` and ``privacy_`` (the neural models).
"""

from __future__ import annotations

import textwrap

_COMMON = [
    "schema : dict, optional",
    '    Column kind overrides, e.g. ``{"PAY_0": "categorical"}``.',
    "constraints : list of tabgen.constraints.Rule, optional",
    "    Rules every generated row obeys, by construction (see :mod:`tabgen.constraints`).",
    'constraint_violations : {"raise", "drop"}, default="raise"',
    "    What ``fit`` does with training rows that break a rule.",
]

_POSTPROCESS = [
    'postprocess : "default" or sequence of str, default="default"',
    '    Post-processors the fit learns and sampling applies (``"snap"``,',
    '    ``"dependencies"``, ``"selection"``; see :mod:`tabgen.synthesizers.postprocess`).',
    '    ``"default"``: the model\'s own choice, ``capabilities.postprocessors``; ``()``: none.',
    "    A differentially private fit runs none (naming some with ``epsilon`` is an error).",
]

_FITTED = [
    "schema_ : Schema",
    "    Detected column kinds.",
    "postprocessors_ : list",
    "    The post-processors the fit learnt (see ``postprocess``), in the order they run;",
    "    empty after a differentially private fit.",
]

_TRAINING = [
    "max_time : float, optional",
    "    Training time budget in seconds; training stops cleanly after the step that",
    "    exceeds it (the model is then usable, just trained less).",
    'device : {"auto", "cpu", "cuda", "mps"} or torch.device, default="auto"',
    '    Where to train; ``"auto"`` picks CUDA when available (resolved in ``fit``; see',
    "    :mod:`tabgen.nn.device`).",
    "verbose : bool, default=False",
    "    Show a progress bar on stderr (``tqdm.auto``: a widget in notebooks) in epochs,",
    "    with the ETA and the last epoch's mean loss (not in a DP fit); ``False`` prints",
    "    nothing. No logging setting is changed.",
    "random_state : None, int or numpy.random.Generator",
    "    Seed for fitting and for the default sampling stream.",
]


def _dp_entries(rest: str, clipped: str | None) -> list[str]:
    lines = [
        "delta : float, optional",
        "    Defaults to ``min(1e-5, 1/(n*sqrt(n)))``; must be below ``1/n``. A tenth goes to the",
        f"    thresholded category sets (when some are not public), the rest to {rest}.",
    ]
    if clipped is not None:
        lines += [
            "max_grad_norm : float, default=1.0",
            f"    Per-sample gradient clipping norm of {clipped} (only with ``epsilon``).",
        ]
    return [
        *lines,
        "domain : dict, optional",
        '    Public domain, ``{"age": (17, 90), "sex": ["Male", "Female"]}``: declared bounds and',
        "    category lists cost no budget (see :class:`~tabgen.privacy.PrivateDomain`). Only",
        "    with ``epsilon``.",
    ]


def _training_attributes(privacy_keys: str) -> list[str]:
    report = (
        "Only with ``epsilon``: total ``epsilon`` and ``delta`` spent and their split "
        "(``epsilon_domain``, ``epsilon_marginals``, ``epsilon_sgd`` as reported by the "
        "accountant), ``accountant``, ``noise_multiplier``, ``max_grad_norm``, "
        f"``sample_rate``, ``steps``{privacy_keys} and what the guarantee ``covers``."
    )
    return [
        "device_ : torch.device",
        "    The device the model runs on.",
        "n_epochs_ : int",
        "    Epochs actually run (fewer than ``epochs`` when ``max_time`` stopped training).",
        "privacy_ : dict",
        *("    " + line for line in textwrap.wrap(report, 84)),
    ]


def shared_parameters(rest: str = "DP-SGD", clipped: str | None = "DP-SGD", privacy_keys: str = ""):
    """Class decorator: replace each marker line of the docstring (see the module
    docstring) by its entries; in the ``delta`` entry the budget beyond the category sets
    goes to ``rest``, and ``max_grad_norm`` describes the clipping of ``clipped`` (left out
    when ``None``); ``privacy_keys`` lists the keys of ``privacy_`` after ``steps``. A
    docstring without any marker is an error."""
    blocks = {
        "[common parameters]": _COMMON,
        "[postprocess parameter]": _POSTPROCESS,
        "[training parameters]": _TRAINING,
        "[DP parameters]": _dp_entries(rest, clipped),
        "[fitted attributes]": _FITTED,
        "[training attributes]": _training_attributes(privacy_keys),
    }

    def decorate(cls):
        doc = cls.__doc__ or ""
        found = False
        for line in doc.splitlines():
            entries = blocks.get(line.strip())
            if entries is not None:
                indent = line[: len(line) - len(line.lstrip())]
                doc = doc.replace(line, "\n".join(indent + entry for entry in entries), 1)
                found = True
        if not found:
            raise ValueError(f"{cls.__name__}'s docstring has no marker of {sorted(blocks)}")
        cls.__doc__ = doc
        return cls

    return decorate
