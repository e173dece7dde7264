"""The differentially private steps of :meth:`BaseSynthesizer.fit` (its one fit pipeline).

With ``epsilon`` set, :func:`prepare_private` replaces the ordinary schema and encoder steps
and :func:`fit_private` the model's training; the fit takes nothing from the rows that
is not either public or measured with DP: the domain and the marginals come from
:class:`~tabgen.privacy.domain.PrivateDomain`, the table encoder is fitted on the cleaned
rows and then every data-dependent attribute is overwritten with the released values
(:func:`privatize_encoder`), and the model's own hook ``_fit_private(Z, rng, budget)``
spends the rest of the budget. Budgets are split by basic composition:
``epsilon = epsilon_domain + epsilon_marginals + epsilon_model`` and the same for ``delta``;
the total spent is then composed with a tighter accountant where the model gives one (zCDP for
the copula, RDP for DP-SGD), and the smaller of that and the basic sum is reported.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from tabgen._validation import schema_kinds
from tabgen.encoders import TableEncoder
from tabgen.encoders.categorical import CategoricalEncoder
from tabgen.encoders.numerical import (
    MinMaxEncoder,
    NumericEncoder,
    QuantileNormalEncoder,
    StandardEncoder,
)
from tabgen.encoders.special import ConstantEncoder, IdEncoder
from tabgen.privacy import _mechanisms
from tabgen.privacy._mechanisms import check_epsilon, resolve_delta
from tabgen.privacy.domain import PrivateDomain
from tabgen.schema import Schema, check_frame

#: What the guarantee of every DP fit covers (models append their own part).
COVERS = (
    "every use of the training rows by fit: category sets, numeric bounds, marginal "
    "histograms, missing rates and the model's own training; neighbouring tables differ by "
    "one row added or removed. Public (not covered): the number of rows, the column kinds "
    "(pass schema= to fix them; automatic detection reads the data) and the declared domain."
)


#: How every DP noise value of the non-SGD steps is drawn (DP-SGD: see ``privacy_["mechanism"]``).
NOISE = (
    "exact discrete Laplace / discrete Gaussian samplers (Canonne, Kamath & Steinke 2020) in "
    "integer and rational arithmetic, on BLAKE2b keyed with 256 bits from the OS CSPRNG "
    "(secrets); no floating-point noise"
)


def split_budget(epsilon: float, delta: float, plan: dict, fraction: float) -> dict:
    """Share ``fraction`` of ``epsilon`` between the domain and marginal histograms (evenly
    per histogram), a tenth of ``delta`` for thresholded category sets, the rest to the model.
    """
    d, m = plan["domain"], plan["marginals"]
    pre = fraction * epsilon if d + m else 0.0
    delta_domain = delta / 10.0 if plan["thresholded"] else 0.0
    return {
        "epsilon": epsilon,
        "delta": delta,
        "epsilon_domain": pre * d / (d + m) if d + m else 0.0,
        "delta_domain": delta_domain,
        "epsilon_marginals": pre * m / (d + m) if d + m else 0.0,
        "epsilon_model": epsilon - pre,
        "delta_model": delta - delta_domain,
    }


def privatize_encoder(encoder: TableEncoder, domain: PrivateDomain) -> None:
    """Overwrite every data-dependent attribute of a fitted ``encoder`` with released values:
    category lists and frequencies, numeric bounds, quantile CDFs, scaling statistics,
    missing indicators and id offsets. Unsupported encoders raise ``ValueError``."""
    for name, enc in encoder.encoders_.items():
        dom = domain.columns_[name]
        if isinstance(enc, ConstantEncoder):
            continue  # the value lives in the (already released) schema
        if isinstance(enc, IdEncoder):
            enc.start_ = 0  # ids are regenerated from 0, not after the largest real id
            enc.missing_.enabled_, enc.missing_.rate_ = False, 0.0
            continue
        enc.missing_.enabled_ = bool(dom.missing)
        enc.missing_.rate_ = dom.missing_rate()
        if isinstance(enc, CategoricalEncoder):
            enc.categories_ = list(dom.categories)
            enc.frequencies_ = dom.frequencies().tolist()
        elif isinstance(enc, NumericEncoder) and isinstance(
            enc, (QuantileNormalEncoder, StandardEncoder, MinMaxEncoder)
        ):
            enc.min_, enc.max_ = dom.value_range()
            enc.origin_, enc.int_range_ = 0, None  # no exact offsets from real extremes
            cdf = dom.cdf()
            if isinstance(enc, QuantileNormalEncoder):
                enc.cdf_ = cdf
            elif isinstance(enc, StandardEncoder):
                mid = 0.5 * (cdf.q_[1:] + cdf.q_[:-1])
                w = np.diff(cdf.p_)
                mean = float(np.sum(w * mid))
                std = float(np.sqrt(max(np.sum(w * (mid - mean) ** 2), 0.0)))
                enc.mean_, enc.std_ = mean, std if std > 0 else 1.0
        else:
            raise ValueError(
                f"column {name!r}: the {type(enc).__name__} cannot be fitted with "
                "differential privacy"
            )
    encoder._build_layout()


def released_output_bias(encoder: TableEncoder) -> np.ndarray:
    """Output biases over the encoder's slots from its (released) state only, never from
    the rows: the log-frequencies of each category block and the logit of each missing
    rate (both floored at 1e-3, since released noisy frequencies can be 0); 0 elsewhere.

    Used by the DP fits of the VAE and the diffusion model in place of their data-driven
    initial biases.
    """
    bias = np.zeros(sum(s.width for s in encoder.spans))
    for span in encoder.spans:
        enc = encoder.encoders_[span.column]
        if span.kind == "softmax":
            freq = np.maximum(np.asarray(enc.frequencies_, dtype="float64"), 1e-3)
            bias[span.start : span.stop] = np.log(freq / freq.sum())
        elif span.kind == "binary":  # the encoders' binary slots are missingness flags
            p = min(max(float(enc.missing_.rate_), 1e-3), 1 - 1e-3)
            bias[span.start] = np.log(p / (1 - p))
    return bias


def check_private_input(X) -> None:
    """Refuse what a differentially private fit cannot take: a path, a data-parallel run."""
    if isinstance(X, (str, os.PathLike)):
        raise ValueError(
            "differentially private training (epsilon) needs an in-memory DataFrame, not a path"
        )
    if data_parallel() is not None:
        raise ValueError(
            "differentially private training (epsilon) cannot run data-parallel: fit "
            "with epsilon in a single process, outside torchrun"
        )


def prepare_private(model, X, rng):
    """The privatised first steps of :meth:`BaseSynthesizer.fit` (see the module docstring):
    sets ``model.schema_``, ``model.encoder_`` (released values only) and ``model.domain_``
    and returns the encoded cleaned rows ``Z`` and the budget, with the model's share.

    The model provides ``_dp_fraction`` (the share of ``epsilon`` for domain and marginals).
    The noise of every mechanism comes from ``budget["noise_rng"]`` (see
    :func:`~tabgen.privacy._mechanisms.secret_seed`), never from ``random_state``, so a DP
    fit is not reproducible.
    """
    X = check_frame(X)
    epsilon = check_epsilon(model.epsilon)
    delta = resolve_delta(model.delta, len(X))
    schema = Schema.detect(X, overrides=schema_kinds(model.schema))
    rules = getattr(model, "constraints_", None)
    domain = PrivateDomain(model.domain, rules.public_limits() if rules is not None else None)
    budget = split_budget(epsilon, delta, domain.plan(X, schema), model._dp_fraction)
    noise = _mechanisms.secret_rng()  # never derived from random_state (see secret_seed)
    domain.fit(
        X,
        schema,
        epsilon_domain=budget["epsilon_domain"],
        delta_domain=budget["delta_domain"],
        epsilon_marginals=budget["epsilon_marginals"],
        rng=noise,
    )
    domain.apply_to_schema(schema)
    clean = domain.clean(X)
    model.schema_ = schema
    model.encoder_ = model._make_encoder().fit(clean, schema)
    privatize_encoder(model.encoder_, domain)
    Z = model.encoder_.transform(clean, rng=model._dequantize_rng(rng))
    model.domain_ = domain
    budget["noise_rng"] = noise
    return Z, budget


def fit_private(model, Z, budget: dict, rng) -> None:
    """Train ``model`` on the output of :func:`prepare_private` and write ``privacy_``.

    The model provides ``_fit_private(Z, rng, budget) -> dict`` (its own mechanism's report,
    holding at least ``"epsilon"`` and ``"delta"`` actually spent); ``rng`` follows
    ``random_state`` (initialisation and the like).
    """
    report = model._fit_private(Z, rng, budget)
    if hasattr(model, "loss_history_"):
        # the raw training losses are computed from the rows without noise: not released
        model.loss_history_ = []
    domain = model.domain_
    eps_domain, delta_domain = domain.spent_["domain"]
    eps_marg = domain.spent_["marginals"][0]
    accounting = report.pop("total_accounting", None)
    rdp = report.pop("_rdp", None)
    eps_model, delta_model = report.pop("epsilon"), report.pop("delta")
    epsilon = float(eps_domain + eps_marg + eps_model)
    delta = float(delta_domain + delta_model)
    composition = "basic (epsilons and deltas add)"
    if accounting is None and rdp is not None and delta_model > 0:
        accounting = _rdp_total(rdp, eps_domain, delta_domain, eps_marg, delta_model, epsilon)
    if accounting is not None:  # the model composed its parts with a tighter accountant
        epsilon, delta = accounting.pop("epsilon"), accounting.pop("delta")
        composition = accounting.pop("accountant")
        report.update(accounting)
    report.setdefault("accountant", composition)
    model.privacy_ = {
        "epsilon": epsilon,
        "delta": delta,
        "epsilon_domain": float(eps_domain),
        "delta_domain": float(delta_domain),
        "epsilon_marginals": float(eps_marg),
        **report,
        "domain_sources": domain.describe(),
        "composition": composition,
        "noise": report.pop("noise", NOISE),
        "covers": COVERS,
    }


def _rdp_total(rdp, eps_domain, delta_domain, eps_marg, delta_model, basic) -> dict:
    """DP-SGD composed with the discrete Laplace counts in RDP (``dpsgd.compose_rdp``); a
    domain step that spent delta (thresholded category sets) is added by basic composition.
    The smaller of this and the basic total is the fit's epsilon (both are valid)."""
    from tabgen.privacy.dpsgd import compose_rdp

    pure = [eps_marg] + ([eps_domain] if delta_domain == 0 else [])
    tight = compose_rdp(rdp, pure, delta_model) + (eps_domain if delta_domain > 0 else 0.0)
    name = "RDP (Opacus orders; DP-SGD + discrete Laplace counts, epsilon-DP as RDP "
    name += "min(eps, alpha eps^2/2); Balle et al. 2020 conversion)"
    if delta_domain > 0:
        name += " + basic for the (epsilon, delta) category sets"
    return {
        "epsilon": float(min(tight, basic)),
        "delta": float(delta_domain + delta_model),
        "accountant": name if tight < basic else "basic (epsilons and deltas add)",
        "epsilon_rdp": float(tight),
        "epsilon_basic_composition": float(basic),
    }


def data_parallel():
    """The number of processes when this one trains in a ``torch.distributed`` group of
    several (else ``None``), as :func:`tabgen.nn.distributed.data_parallel` decides; privacy
    imports nothing of the trainer, and torch only when a process group can exist (after
    ``torch.distributed`` has been imported)."""
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    world = dist.get_world_size()
    return world if world > 1 else None
