"""DP-SGD through Opacus: per-sample gradient clipping, Poisson sampling and noise calibrated
to a target ``(epsilon, delta)`` (Opacus' ``get_noise_multiplier`` for the exact number of
steps of the run).

The accountant is Opacus' RDP accountant (Mironov et al. 2019, subsampled Gaussian, with the
improved RDP-to-DP conversion of Balle et al. 2020), the one that tabgen's tests check
against an independent computation; it is slightly conservative compared to PRV. Noise and
Poisson sampling draw from ``torch.Generator`` objects seeded from the operating system's
entropy (:func:`~tabgen.privacy._mechanisms.secret_seed`), never from ``random_state``: a DP
fit is not reproducible. The generators themselves are Mersenne Twisters, not a
cryptographically secure RNG, and the gradient noise is a *floating-point* Gaussian
(``torch.normal``): unlike the discrete noise of the domain and marginal steps
(:mod:`tabgen.privacy.noise`), it is open in principle to the low-order-bit attacks on float
samplers (Mironov 2012), although the noise is added to clipped gradients inside training and
only the resulting weights are released. Opacus' ``secure_mode=True`` would draw it from
``torchcsprng``, which is unmaintained and has no build for current torch, so it is not
usable here; ``privacy_["noise"]`` says so for every DP-SGD fit.

Opacus is an optional dependency: ``pip install "tabgen[dp]"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from tabgen.privacy import _mechanisms

#: The accountant used for every DP-SGD fit.
ACCOUNTANT = "rdp"


def require_opacus():
    """Import Opacus or raise an ``ImportError`` that says how to install it."""
    try:
        import opacus
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "differentially private training needs Opacus: pip install 'tabgen[dp]' "
            "(or pip install 'opacus>=1.5')"
        ) from exc
    return opacus


@dataclass
class DPSGDSettings:
    """Target and mechanism settings of one DP-SGD run."""

    epsilon: float
    delta: float
    max_grad_norm: float
    batch_size: int
    epochs: int


@dataclass
class DPSGDRun:
    """The private module, optimizer, Poisson data loader and engine of a run."""

    module: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loader: torch.utils.data.DataLoader
    engine: object
    settings: DPSGDSettings

    def report(self, steps: int) -> dict:
        """What was spent: ``epsilon`` from the accountant for ``delta``, the noise
        multiplier, clipping norm, sampling rate and steps."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
            spent = float(self.engine.accountant.get_epsilon(self.settings.delta)) if steps else 0.0
        return {
            "epsilon": spent,
            "delta": float(self.settings.delta),
            "epsilon_sgd": spent,
            "delta_sgd": float(self.settings.delta),
            "target_epsilon_sgd": float(self.settings.epsilon),
            "accountant": f"opacus {ACCOUNTANT}",
            "noise_multiplier": float(self.optimizer.noise_multiplier),
            "max_grad_norm": float(self.settings.max_grad_norm),
            "sample_rate": float(self.loader.sample_rate),
            "expected_batch_size": float(self.loader.sample_rate * len(self.loader.dataset)),
            "steps": int(steps),
            "mechanism": "DP-SGD (Opacus): per-sample clipping, Poisson sampling, Gaussian noise",
            "noise": "DP-SGD gradient noise: floating-point Gaussian (torch.normal) from a "
            "Mersenne Twister seeded with OS entropy (Opacus secure_mode unavailable: "
            "torchcsprng); domain and marginal counts: exact discrete Laplace (CKS 2020) on a "
            "secure bit source",
        }


def make_private(
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    settings: DPSGDSettings,
) -> DPSGDRun:
    """Wrap ``module`` and ``optimizer`` for DP-SGD over the rows ``X``.

    The sampling rate is ``1 / ceil(n / batch_size)``, about ``batch_size / n`` (Opacus'
    Poisson data loader: each row joins each batch independently); the noise multiplier is
    the smallest (within Opacus' search tolerance) that keeps ``epsilon`` within the target
    after the ``epochs * len(loader)`` steps that the Poisson loader yields. Sampling and
    noise are seeded by :func:`~tabgen.privacy._mechanisms.secret_seed`.
    """
    opacus = require_opacus()
    from opacus.accountants.utils import get_noise_multiplier
    from opacus.validators import ModuleValidator

    errors = ModuleValidator.validate(module, strict=False)
    if errors:
        raise ValueError(f"the network cannot be trained with DP-SGD: {errors}")
    n = X.shape[0]
    batch = max(1, min(int(settings.batch_size), n))
    seed = _mechanisms.secret_seed()  # not from random_state: see secret_seed
    sampler_gen = torch.Generator().manual_seed(seed)
    noise_gen = torch.Generator(device=X.device).manual_seed(seed + 1)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.arange(n, device=X.device)),
        batch_size=batch,
        generator=sampler_gen,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]ecure RNG.*")
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        engine = opacus.PrivacyEngine(accountant=ACCOUNTANT, secure_mode=False)
        priv_module, priv_opt, priv_loader = engine.make_private(
            module=module,
            optimizer=optimizer,
            data_loader=loader,
            noise_multiplier=1.0,  # replaced below, before any step
            max_grad_norm=float(settings.max_grad_norm),
            poisson_sampling=True,
            noise_generator=noise_gen,
        )
        # calibrated for the steps the Poisson loader yields (its own length, which float
        # rounding can make one less than ceil(n / batch)); Opacus' make_private_with_epsilon
        # counts int(epochs / sample_rate) instead, and the spent epsilon could end above
        # the target
        priv_opt.noise_multiplier = get_noise_multiplier(
            target_epsilon=float(settings.epsilon),
            target_delta=float(settings.delta),
            sample_rate=float(priv_loader.sample_rate),
            steps=int(settings.epochs) * len(priv_loader),
            accountant=ACCOUNTANT,
        )
    return DPSGDRun(priv_module, priv_opt, priv_loader, engine, settings)
