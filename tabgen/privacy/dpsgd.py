"""DP-SGD through Opacus: per-sample gradient clipping, Poisson sampling and noise calibrated
to a target ``(epsilon, delta)`` (Opacus' ``get_noise_multiplier`` for the exact number of
steps of the run).

The accountant is Opacus' RDP accountant (Mironov et al. 2019, subsampled Gaussian, with the
improved RDP-to-DP conversion of Balle et al. 2020), the one that tabgen's tests check
against an independent computation; it is slightly conservative compared to PRV. The noise is
calibrated for the model's share of the budget; the fit's total composes that run with the
discrete Laplace counts of the domain and marginals in RDP (:func:`compose_rdp`) and reports
it beside the basic sum, keeping the smaller (``privacy_["epsilon"]``,
``privacy_["epsilon_basic_composition"]``). Noise and
Poisson sampling draw from ``torch.Generator`` objects seeded from the operating system's
entropy (:func:`~tabgen.privacy._mechanisms.secret_seed`), never from ``random_state``: a DP
fit is not reproducible. The gradient noise is hardened by :func:`secure_noise`: Opacus'
floating-point-safe noise (each value the sum of four Gaussian draws halved) and a noise
generator re-keyed from the OS CSPRNG before every step. It remains a *floating-point*
Gaussian (``torch.normal`` on a Mersenne Twister), unlike the exact discrete noise of the
domain and marginal steps (:mod:`tabgen.privacy.noise`): Opacus' ``secure_mode=True`` would
draw it from ``torchcsprng``, which is unmaintained and has no build for current torch, and a
discrete Gaussian per weight per step in exact arithmetic is far too slow.
``privacy_["noise"]`` says so for every DP-SGD fit.

Opacus is an optional dependency: ``pip install "tabgen[dp]"``.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
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
            "noise": "DP-SGD gradient noise: floating-point Gaussian (torch.normal), each value "
            "the sum of 4 draws halved (Opacus' floating-point-safe secure_mode noise, Holohan "
            "& Braghin 2021), the generator re-keyed every step from the OS CSPRNG (secrets); "
            "still floating point, not a discrete Gaussian, and not Opacus' torchcsprng "
            "generator (no build for current torch); domain and marginal counts: exact discrete "
            "Laplace (CKS 2020) on a secure bit source",
            "_rdp": self.rdp_curve(),
        }

    def rdp_curve(self) -> tuple[list[float], list[float]]:
        """The run's RDP guarantee ``(orders, rdp)``: Opacus' subsampled-Gaussian analysis of
        the steps the accountant recorded, on its default orders (for composing the DP-SGD
        part with the other mechanisms of the fit, :func:`compose_rdp`)."""
        from opacus.accountants import RDPAccountant
        from opacus.accountants.analysis.rdp import compute_rdp

        orders = list(RDPAccountant.DEFAULT_ALPHAS)
        total = np.zeros(len(orders))
        for sigma, q, steps in getattr(self.engine.accountant, "history", []):
            total += np.asarray(
                compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=orders)
            )
        return orders, total.tolist()


def compose_rdp(curve, pure_epsilons, delta: float) -> float:
    """``epsilon`` at ``delta`` of the DP-SGD run ``curve`` (``(orders, rdp)``) composed, in
    RDP, with pure ``epsilon``-DP mechanisms: an ``epsilon``-DP mechanism is
    ``(alpha, min(epsilon, alpha epsilon² / 2))``-RDP (it is ``epsilon²/2``-zCDP, Bun & Steinke
    2016, and a Rényi divergence never exceeds the max-divergence); RDP adds over mechanisms and
    converts once (Opacus' ``get_privacy_spent``, Balle et al. 2020).

    Examples
    --------
    Pure mechanisms alone compose better by adding their epsilons (so the fit reports the
    smaller of the two totals); beside a DP-SGD run, RDP is tighter:

    >>> from opacus.accountants.analysis.rdp import compute_rdp
    >>> orders = [1 + x / 10 for x in range(1, 100)] + list(range(12, 64))
    >>> round(compose_rdp((orders, [0.0] * len(orders)), [0.3, 0.2], 1e-5), 3)
    0.603
    >>> sgd = (orders, compute_rdp(q=0.02, noise_multiplier=1.0, steps=500, orders=orders))
    >>> round(compose_rdp(sgd, [], 1e-5), 3), round(compose_rdp(sgd, [0.15, 0.15], 1e-5), 3)
    (3.144, 3.277)
    """
    from opacus.accountants.analysis.rdp import get_privacy_spent

    orders, rdp = curve
    a = np.asarray(orders, dtype=float)
    total = np.asarray(rdp, dtype=float).copy()
    for eps in pure_epsilons:
        if eps > 0:
            total += np.minimum(eps, a * eps * eps / 2.0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        epsilon, _ = get_privacy_spent(orders=a, rdp=total, delta=delta)
    return float(epsilon)


def secure_noise(optimizer, generator: torch.Generator) -> None:
    """Harden the gradient noise of an Opacus optimizer without ``torchcsprng``.

    * Opacus' floating-point-safe noise (``secure_mode``): each value is the sum of four
      Gaussian draws halved (Holohan & Braghin 2021, section 5.1), which defeats the attacks
      on the low-order bits of a single floating-point Gaussian (Jin et al. 2022); Opacus only
      switches it on together with ``torchcsprng``, which does not build for current torch.
    * ``generator`` (a Mersenne Twister) is re-keyed before every step with fresh bits from
      the OS CSPRNG (:func:`~tabgen.privacy._mechanisms.secret_seed`, mixed with the step
      number): no generator state outlives one step, so one step's noise tells nothing about
      another's.

    The noise is still floating-point Gaussian, not a discrete Gaussian (drawing one per
    weight per step in exact arithmetic is far too slow); ``privacy_["noise"]`` says so.
    """
    optimizer.secure_mode = True
    add_noise = optimizer.add_noise
    steps = itertools.count()

    def rekeyed_add_noise():
        generator.manual_seed((_mechanisms.secret_seed() ^ next(steps)) & (2**63 - 1))
        add_noise()

    optimizer.add_noise = rekeyed_add_noise


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
        secure_noise(priv_opt, noise_gen)
        priv_opt.noise_multiplier = get_noise_multiplier(
            target_epsilon=float(settings.epsilon),
            target_delta=float(settings.delta),
            sample_rate=float(priv_loader.sample_rate),
            steps=int(settings.epochs) * len(priv_loader),
            accountant=ACCOUNTANT,
        )
    return DPSGDRun(priv_module, priv_opt, priv_loader, engine, settings)
