"""Differential privacy for the synthesizers.

* :mod:`tabgen.privacy.domain`: public domain declarations and DP measurement of category
  sets, numeric bounds and marginal histograms;
* :mod:`tabgen.privacy.copula`: the DP statistics of the Gaussian copula;
* :mod:`tabgen.privacy.dpsgd`: DP-SGD through Opacus (optional dependency ``tabgen[dp]``);
* :mod:`tabgen.privacy.noise`: exact discrete Laplace / Gaussian samplers (Canonne, Kamath &
  Steinke 2020) on a secure bit source, the noise of every non-SGD mechanism;
* :mod:`tabgen.privacy.accounting`: zCDP composition and its conversion to (epsilon, delta).

Models opt in with ``epsilon=`` (and optionally ``delta=`` and ``domain=``); the fitted model
reports its guarantee in ``privacy_``.
"""

from tabgen.privacy._mechanisms import (
    check_epsilon,
    default_delta,
    gaussian_sigma,
    resolve_delta,
    stability_threshold,
)
from tabgen.privacy._params import DP_SYNTHESIZERS, check_dp_support
from tabgen.privacy.domain import ColumnDomain, PrivateDomain

__all__ = [
    "DP_SYNTHESIZERS",
    "ColumnDomain",
    "PrivateDomain",
    "check_dp_support",
    "check_epsilon",
    "default_delta",
    "gaussian_sigma",
    "resolve_delta",
    "stability_threshold",
]
