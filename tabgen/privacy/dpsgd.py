"""DP-SGD through Opacus: per-sample gradient clipping, Poisson sampling and noise calibrated
to a target ``(epsilon, delta)`` (Opacus' ``get_noise_multiplier`` for the exact number of
steps of the run).

The accountant is Opacus' RDP accountant (Mironov et al. 2019, subsampled Gaussian, with the
improved RDP-to-DP conversion of Balle et al. 2020), the one that tabgen's tests check
against an independent computation; it is slightly conservative compared to PRV. The noise is
calibrated for the model's share of the budget; the fit's total composes that run with the
discrete Laplace counts of the domain and marginals in RDP (:func:`compose_rdp`) and reports
it beside the basic sum, keeping the smaller (``privacy_["epsilon"]``,
``privacy_["epsilon_basic_composition"]``).

Poisson sampling draws from a ``torch.Generator`` seeded from the operating system's entropy
(:func:`~tabgen.privacy._mechanisms.secret_seed`), never from ``random_state``: a DP fit is
not reproducible. The gradient noise is drawn by :func:`secure_noise` at the place Opacus
adds it (``add_noise``, ``std = noise_multiplier * max_grad_norm``): uniform bits from the
operating system's CSPRNG (:func:`os.urandom`), turned into Gaussians by Box-Muller
(:func:`csprng_gaussian`), each value the sum of four such draws halved, Opacus'
floating-point-safe ``secure_mode`` recipe (Holohan & Braghin 2021). That is Opacus'
``secure_mode=True`` without ``torchcsprng`` (unmaintained, no build for current torch);
torch's generators and global seed play no part. It remains a *floating-point* Gaussian,
unlike the exact discrete noise of the domain and marginal steps (:mod:`tabgen.privacy.noise`):
a discrete Gaussian per weight per step in exact arithmetic is far too slow.
``privacy_["noise"]`` says so for every DP-SGD fit.

Opacus is an optional dependency: ``pip install "tabgen[dp]"``.
"""

from __future__ import annotations

import os
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
            "noise": "DP-SGD gradient noise: floating-point Gaussian from the OS CSPRNG "
            "(os.urandom bits, Box-Muller), each value the sum of 4 draws halved (Opacus' "
            "floating-point-safe secure_mode recipe, Holohan & Braghin 2021), in place of "
            "Opacus' torchcsprng (no build for current torch); not an exact discrete Gaussian; "
            "domain and marginal counts: exact discrete Laplace (CKS 2020) on a secure bit "
            "source",
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


def csprng_gaussian(n: int, std: float, source=os.urandom) -> torch.Tensor:
    """``n`` Gaussian values of standard deviation ``std`` from a cryptographically secure
    byte source, hardened against floating-point attacks as Opacus' ``secure_mode``.

    Each 8 random bytes give a 53-bit integer ``k`` and the uniform ``(k + 1) / 2**53`` in
    ``(0, 1]``; pairs of uniforms give two standard normals by Box-Muller (in float64, with
    torch's vectorised ``log``/``cos``/``sin``); each returned value is ``std`` times the sum
    of four normals halved (Holohan & Braghin 2021, section 5.1: the set of floats a sum can
    take no longer reveals one draw's low-order bits).

    Parameters
    ----------
    n : int
        How many values.
    std : float
        Their standard deviation.
    source : callable, default :func:`os.urandom`
        ``k -> k`` random bytes; the operating system's CSPRNG unless a test pins it.

    Returns
    -------
    torch.Tensor
        ``n`` float64 values (on the CPU).

    Examples
    --------
    >>> x = csprng_gaussian(100_000, 2.0)
    >>> abs(x.mean().item()) < 0.05, abs(x.std().item() / 2.0 - 1) < 0.02
    (True, True)
    """
    n = int(n)
    pairs = 2 * n  # 4 n normals, two per Box-Muller pair
    words = np.frombuffer(source(16 * pairs), dtype=np.uint64) >> np.uint64(11)
    u = torch.from_numpy(words.astype(np.float64)).add_(1.0).mul_(2.0**-53)
    radius = torch.log(u[:pairs]).mul_(-2.0).sqrt_()
    angle = u[pairs:].mul(2.0 * np.pi)
    normals = torch.cat([radius * torch.cos(angle), radius * torch.sin(angle)])
    return normals.view(4, n).sum(dim=0).mul_(0.5 * std)


def secure_noise(optimizer, source=os.urandom) -> None:
    """Draw the gradient noise of an Opacus optimizer from a secure source.

    Replaces the optimizer's ``add_noise`` (called by Opacus' ``pre_step`` after clipping)
    with one that does the same, ``p.grad = p.summed_grad + noise`` with
    ``std = noise_multiplier * max_grad_norm`` for every parameter, with the noise drawn by
    :func:`csprng_gaussian` from ``source`` (the OS CSPRNG): Opacus' ``secure_mode`` noise
    without ``torchcsprng``. Torch's generators and global seed are never used. Like Opacus,
    it refuses to add noise twice to the same summed gradient.

    The noise is still a floating-point Gaussian, not a discrete Gaussian (drawing one per
    weight per step in exact arithmetic is far too slow); ``privacy_["noise"]`` says so.
    """

    def add_noise():
        std = float(optimizer.noise_multiplier) * float(optimizer.max_grad_norm)
        for p in optimizer.params:
            summed = p.summed_grad
            if getattr(summed, "_processed", False):
                raise ValueError(
                    "the gradients were not cleared since the last optimizer step: call "
                    "optimizer.zero_grad() between steps (DP-SGD uses each gradient once)"
                )
            noise = csprng_gaussian(summed.numel(), std, source)
            p.grad = (summed + noise.to(summed).view_as(summed)).view_as(p)
            summed._processed = True

    optimizer.add_noise = add_noise


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
    after the ``epochs * len(loader)`` steps that the Poisson loader yields. Sampling is
    seeded by :func:`~tabgen.privacy._mechanisms.secret_seed`; the noise comes from
    :func:`~tabgen.privacy._mechanisms.secret_bytes_source` (:func:`secure_noise`).
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
        )
        # calibrated for the steps the Poisson loader yields (its own length, which float
        # rounding can make one less than ceil(n / batch)); Opacus' make_private_with_epsilon
        # counts int(epochs / sample_rate) instead, and the spent epsilon could end above
        # the target
        secure_noise(priv_opt, _mechanisms.secret_bytes_source())
        priv_opt.noise_multiplier = get_noise_multiplier(
            target_epsilon=float(settings.epsilon),
            target_delta=float(settings.delta),
            sample_rate=float(priv_loader.sample_rate),
            steps=int(settings.epochs) * len(priv_loader),
            accountant=ACCOUNTANT,
        )
    return DPSGDRun(priv_module, priv_opt, priv_loader, engine, settings)
