"""``DiffusionSynthesizer``: mixed-type EDM diffusion over the table encoding."""

from __future__ import annotations

import logging
import numbers
import time

import numpy as np
import torch

from tabgen._params import store_params
from tabgen._rng import torch_generator
from tabgen.encoders import TableEncoder
from tabgen.nn import epochs_for_steps, load_weights, weight_arrays
from tabgen.nn.device import low_precision_fast, resolve_device
from tabgen.nn.params import check_positive_ints, check_training_params
from tabgen.privacy._params import check_dp_params
from tabgen.synthesizers._docs import shared_parameters
from tabgen.synthesizers._neural import NeuralSynthesizer, untrained_privacy_report
from tabgen.synthesizers.base import BaseSynthesizer, Conditions
from tabgen.synthesizers.diffusion import gate, process, schedule
from tabgen.synthesizers.diffusion.distill import DistillConfig, distill, student_rows
from tabgen.synthesizers.diffusion.network import MLPDenoiser, init_parameters
from tabgen.synthesizers.diffusion.presets import PRESETS
from tabgen.synthesizers.diffusion.sampler import solve
from tabgen.synthesizers.diffusion.slots import condition_slots
from tabgen.synthesizers.diffusion.training import TrainConfig, train
from tabgen.synthesizers.postprocess import check_postprocess

logger = logging.getLogger("tabgen")

_SIGMA_DATA = 1.0
#: Optimiser steps that ``epochs=None`` aims at, and its bounds on the number of epochs
#: (the upper one bounds the passes over a small table: more copy its rows).
_TARGET_STEPS = 8_000
_EPOCH_RANGE = (300, 1_200)
#: The upper bound where no row is released (the imputer's model: see _imputation_params).
_UNRELEASED_MAX_EPOCHS = 10_000
#: bfloat16 training (about 2x float32's steps/s): the saved time buys 1.5x the default steps
_LOW_PRECISION_STEPS = 1.5
#: ... but takes a table to no more passes than this where float32's default gives fewer
#: (shoppers, 11,097 rows: 1,200 passes copied rows, MIA AUC .523 against .517 at 800, and
#: were detected no less: benchmarks/RESULTS.md, diffusion_conditionals)
_LOW_PRECISION_MAX_EPOCHS = 800
#: Default ``epochs`` of a differentially private fit (expected passes).
_DP_EPOCHS = 300
_LR_WARMUP = 100  # optimiser steps of linear warm-up
_P_MEAN, _P_STD = -0.6, 1.2  # training noise levels: ln sigma ~ N(_P_MEAN, _P_STD^2) ...
_UNIFORM_FRAC = 0.1  # ... except this fraction, log-uniform over the sampling range
_TRAIN_SIGMA_MAX = 10.0  # top of the log-uniform training range
_CAT_WEIGHT = 2.0  # weight of the discrete slots' cross-entropy against the squared error
_N_PERIODIC = 16  # periodic features per continuous slot (network.MLPDenoiser; not DP)
# (the three above: benchmarks/RESULTS.md, diffusion_mle; DP-SGD keeps its measured settings)
_DP_P_MEAN, _DP_CAT_WEIGHT = -1.2, 1.0
_SIGMA_MAX = 80.0  # start of sampling, above the training range (choice: benchmarks/RESULTS.md)
_CHURN_CONDITIONAL = 5.0  # stochastic steps when conditioning (errors of early steps fade)
# sampler="distilled": the one-step student (distill.py; figures: bench_diffusion_speed.py)
_DISTILL_PAIRS = 131_072  # most teacher solutions it learns from
_DISTILL_STEP_SHARE = 1.0  # its optimiser steps, as a share of the denoiser's ...
_DISTILL_STEP_SHARE_LOW = 2 / 3  # ... where the denoiser trains in bfloat16
_DISTILL_TEACHER = "heun"  # the teacher's solver for the pairs (n_steps steps)
_DISTILL_DRAWS = 2  # candidates per row of the selection (more distort the marginals)
_DISTILL_CHUNK = 16_384  # rows drawn and decoded at a time
_SAMPLERS = ("auto", "distilled", "dpm", "heun")
#: ``max_time`` of a distilled fit: the denoiser's share, and the post-processors' reserve
_TEACHER_TIME_SHARE, _POSTPROCESS_TIME_SHARE = 0.6, 0.05
_TRAIN_LOW_PRECISION = True  # bfloat16 autocast where native (float32 weights; not DP)
_ATOMS = ("interval", "mixed", "auto")


@shared_parameters(privacy_keys=", ``private_network``")
class DiffusionSynthesizer(NeuralSynthesizer, BaseSynthesizer):
    """Mixed-type diffusion model (EDM) over the table encoding.

    Numbers and datetimes are mapped to standard normals through their empirical CDF, categories
    to one-hot blocks and missing cells to binary indicators; Gaussian noise is added to all
    slots together. An MLP denoiser, preconditioned as in EDM (Karras et al., 2022), with
    periodic features of the numeric slots beside their values (16 learned frequencies each),
    predicts the clean numbers (squared error) and the category and missingness probabilities
    (cross-entropy, weighted twice). Sampling integrates the probability-flow ODE (Heun's method
    or DPM-Solver++(2M), ``n_steps`` steps) of an exponential moving average of the weights; a
    one-step student network, trained after the denoiser on the solver's own rows, replaces the
    solver for unconditional rows unless a quick detection check at fit time finds its rows
    clearly worse than DPM-Solver++'s (``sampler="auto"``, the default). Each row is then the
    pick among a few such draws (two from the student, four from a solver) by a row
    discriminator's density ratio (post-processor ``"selection"``, fitted after training and the
    check; ``postprocess`` switches it off), which makes the rows much harder to tell from real
    ones. On tables of 1,000 rows or more the ratio of unconditional candidates has two
    stages: the MLP discriminator's, and boosted trees fitted between the training rows and
    the rows the MLP's selection returns (:mod:`~tabgen.synthesizers.postprocess.trees`;
    conditioned candidates are picked by the MLP alone). They cost seconds to tens of CPU
    seconds at fit time (Adult 3, default 31 where the check keeps DPM-Solver++ and their
    training rows come from its solver), and slow the student's sampling by about a quarter
    (``benchmarks/RESULTS.md``). Last, each two-level categorical column of an unconditional
    row is drawn again from boosted trees' probability given the rest of the row, where those
    trees predict it better on held-out training rows than trees fitted on the model's own
    rows (post-processor ``"conditionals"``,
    :mod:`~tabgen.synthesizers.postprocess.conditionals`; Adult's MLE AUC .909 to .921, its
    sampling about a fifth slower).
    Training is deterministic for a given ``random_state`` on CPU; ``max_time`` makes the
    amount of training depend on the machine's speed. Where bfloat16 is native (AVX-512 BF16,
    AMX, recent GPUs) the denoiser trains with bfloat16 products (autocast, float32 weights, not
    under DP-SGD; about twice the steps per second: ``benchmarks/RESULTS.md``), so a seed gives
    slightly different weights there than elsewhere. ``max_time`` bounds the training: the
    denoiser gets 60 % (with ``sampler="auto"`` or ``"distilled"``), the student the rest less
    5 % kept for the check and the post-processors (which are not cut short: the selection's
    trees can take longer than that reserve).

    Conditions (any subset of categorical and numeric columns) and imputation
    (:meth:`inpaint`) are native: the network is also trained with random subsets of columns
    given clean (and flagged), so at sampling time the known slots stay fixed and the
    denoiser fills the others from the conditional distribution; no rejection is needed.

    Parameters
    ----------
    [common parameters]
    epochs : int, optional
        Passes over the training rows. Default: enough passes for about 8,000 optimiser
        steps, within 300 to 1,200 epochs. Tables of about 28,000 rows or more get 300 epochs;
        smaller ones get more, because a fixed count of epochs gives a small table too
        few optimiser steps (the imputation benchmark in ``benchmarks/RESULTS.md`` shows
        the effect), up to 1,200 passes: more passes over a small table copy its rows
        (credit-g's 900 rows: membership-inference AUC .55 after 500 epochs, .63 after
        3,000) and make it easier to detect. Where the denoiser trains in bfloat16 (see
        below), 1.5 times the steps: about 12,000, at least 450 epochs (Adult's 32,561
        rows: 450 epochs; tables under about 7,000 rows: 1,200), but no more than 800 passes
        where float32's default gives fewer (shoppers' 11,097 rows: 800, not 1,200; more
        passes there copied rows).
        In DP mode the default stays 300 (see ``epsilon``).
    batch_size : int, default=1024
        Rows per optimiser step (capped at the number of training rows).
    lr : float, default=2e-3
        Peak AdamW learning rate (linear warm-up, then linear decay to 0).
    hidden : int, default=256
        Width of the denoiser's hidden layers.
    n_layers : int, default=3
        Residual hidden layers of the denoiser.
    n_steps : int, default=20
        Steps of the ODE solver: one network evaluation each with ``sampler="dpm"``,
        ``2 * n_steps - 1`` with Heun's method (also the teacher's solver of
        ``"distilled"``, and the solver of conditional sampling).
    sampler : {"auto", "distilled", "dpm", "heun"}, default="auto"
        How unconditional rows are drawn. ``"auto"``: train the student of ``"distilled"``
        and keep it unless a quick detection check of both samplers' selected rows against
        the training rows, before the post-processors, finds it clearly worse than
        ``"dpm"`` (:mod:`~tabgen.synthesizers.diffusion.gate`: 5-10 CPU seconds; choice and
        figures in ``sampler_``, ``sampler_check_``; no check under DP, once ``max_time``
        is spent or under 200 rows). ``"distilled"``: after training, a one-step
        student network learns the map from starting noise to the row that Heun's solver
        (``n_steps`` steps) gives (:mod:`~tabgen.synthesizers.diffusion.distill`; as many
        optimiser steps again at fit time, two thirds as many where the denoiser trains in
        bfloat16), and each row costs one evaluation; the
        discriminator selection then keeps one of two candidates per row. ``"dpm"``:
        DPM-Solver++(2M), a multistep second-order solver with one evaluation per step;
        ``"heun"``: EDM's Heun solver (both keep one of four candidates with the
        selection). A model fitted with ``"dpm"`` or ``"heun"`` has no student; one fitted
        with ``"auto"`` or ``"distilled"`` samples with any (``set_params``; comparison in
        ``benchmarks/RESULTS.md``). Where bfloat16 is native (AVX-512 BF16, AMX, recent
        GPUs) the networks' matrix products are evaluated in it.
        Conditional sampling and :meth:`inpaint` always use Heun's method with stochastic
        steps (churn), which corrects the errors of early steps around the fixed slots.
    ema_decay : float, default=0.999
        Decay of the weight average used for sampling.
    cond_fraction : float, default=0.3
        Fraction of the training rows that see a random subset of their columns clean
        (known); this teaches the one network every conditional distribution used by
        ``conditions`` and :meth:`inpaint`. 0 trains an unconditional model only.
    dequantize : bool, default=True
        Spread each training value that many rows share (an atom of the quantile encoder:
        a whole number, a spike such as 0) uniformly over its normal-score interval, a
        different draw per row. ``False`` encodes it at the interval's middle: a point mass
        that the denoiser can learn to snap to (ablation in ``benchmarks/RESULTS.md``).
        Decoding is the same either way.
    atoms : {"auto", "interval", "mixed"}, default="auto"
        How numeric columns with heavy values are encoded. ``"interval"``: every value
        through the quantile-normal code, an atom as an interval of it (see
        ``dequantize``). ``"mixed"``: in each numeric column, the values held by at least
        1 % of the rows (the 16 heaviest) become categories of a one-hot block beside one
        quantile-normal slot for the other values
        (:class:`~tabgen.encoders.mixed.AtomMixtureEncoder`), so the denoiser learns them
        with a cross-entropy loss like any category. ``"auto"``: per column
        (:func:`~tabgen.encoders.mixed.choose_atoms`), all heavy values where they cover
        90 % of the rows (small supports: counts, codes), else only spikes (twice the rows
        of each neighbouring value: a 0 among amounts); ages and amounts keep the
        quantile-normal code, and a table without such columns is encoded exactly as with
        ``"interval"`` (ablation in ``benchmarks/RESULTS.md``: it lifts detection on tables
        of codes and spiky amounts, shoppers .741 to .889, and costs Adult's one-step
        student about .01).
        A differentially private fit (``epsilon``) always uses ``"interval"``.
    precision : {"auto", "float32"}, default="auto"
        Precision of the denoiser's training products. ``"auto"``: bfloat16 (autocast,
        float32 weights, 1.5 times the default steps) where it is native, float32
        elsewhere and under DP-SGD; ``"float32"``: float32 everywhere, the same weights on
        every machine (and data-parallel training equal to one process's).
    [training parameters]
    epsilon : float, optional
        Train with ``(epsilon, delta)``-differential privacy (``None``: ordinary training).
        10 % of ``epsilon`` measures the domain and the marginal histograms that the
        quantile encoder needs (:mod:`tabgen.privacy.domain`, Laplace mechanism); the rest
        trains the whole denoiser with DP-SGD through Opacus (:mod:`tabgen.privacy.dpsgd`:
        per-sample clipping to ``max_grad_norm``, Poisson sampling with expected batch
        ``batch_size``, noise calibrated for ``epochs`` expected passes, RDP accountant).
        The loss is then a per-row loss (each row averaged over its own free slots, see
        :func:`~tabgen.synthesizers.diffusion.process.row_losses`), so that each per-sample
        gradient is that of one row; noise levels, noise and known-column masks are drawn
        per row inside each step. The learning rate keeps its warm-up and linear decay over
        the expected number of steps; the weight average used for sampling is
        post-processing. Nothing else reads the rows: the output biases come from the
        released category frequencies and missing rates. DP-SGD prefers fewer, larger
        steps and a narrower network than the defaults (per-sample gradients cost about
        4x per doubling of ``hidden``): on a table of tens of thousands of rows
        ``hidden=128, batch_size=4000, lr=4e-3, epochs=15`` is a good start (measured
        settings in ``benchmarks/RESULTS.md``).
        Needs ``pip install "tabgen[dp]"``.
    [DP parameters]
    [postprocess parameter]

    Attributes
    ----------
    encoder_ : TableEncoder
        The fitted table encoder (quantile-normal numbers, one-hot categories).
    [fitted attributes]
    denoiser_ : torch.nn.Module
        The EMA denoiser used for sampling.
    sampler_ : {"distilled", "dpm", "heun"}
        The unconditional sampler of the fit (``sampler="auto"``: the check's choice).
    sampler_check_ : dict
        The check's ``student_auc``, ``dpm_auc``, ``margin``, ``rows`` and ``cpu_s``, or
        why it was ``skipped``; empty for another ``sampler``.
    loss_history_ : list of float
        Mean training loss of each epoch.
        Empty after a differentially private fit (the raw losses are not private).
    [training attributes]

    Notes
    -----
    The defaults suit a small CPU: a table of tens of thousands of rows trains in minutes
    and samples in seconds (timings in ``benchmarks/RESULTS.md``). On a
    GPU, train longer and larger with ``DiffusionSynthesizer.from_preset("gpu")`` or any
    explicit setting, e.g. ``DiffusionSynthesizer(epochs=2000, batch_size=4096,
    hidden=1024, n_layers=4, n_steps=50, device="cuda")``. A model saved on a GPU loads
    on a CPU.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabgen import DiffusionSynthesizer
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(20, 70, 200),
    ...                    "job": rng.choice(["a", "b", "c"], 200)})
    >>> model = DiffusionSynthesizer(epochs=5, hidden=32, n_steps=5, random_state=0).fit(df)
    >>> rows = model.sample(4, conditions={"job": "b"}, random_state=1)
    >>> rows["job"].tolist()
    ['b', 'b', 'b', 'b']
    >>> holes = df.head(3).astype({"age": "float64"})
    >>> holes.loc[1, "age"] = np.nan
    >>> int(model.inpaint(holes, random_state=0)["age"].isna().sum())
    0

    With differential privacy (DP-SGD through Opacus):

    >>> dp = DiffusionSynthesizer(epsilon=3.0, epochs=2, batch_size=50, hidden=16,
    ...                           n_layers=1, n_steps=3, domain={"age": (18, 70)},
    ...                           random_state=0).fit(df)
    >>> p = dp.privacy_
    >>> p["epsilon"] <= 3.0 * 1.01, p["accountant"], p["steps"], p["private_network"]
    (True, 'opacus rdp', 8, 'denoiser')
    """

    _numeric_conditions = True
    _row_conditions = True  # conditions are a per-row mask: no grouping by pattern
    _supports_inpainting = True
    _supports_data_parallel = True  # under torchrun: see tabgen.scale.train_ddp
    _sampling_network = "denoiser_"

    def __init__(
        self,
        *,
        schema: dict | None = None,
        constraints: list | None = None,
        constraint_violations: str = "raise",
        epochs: int | None = None,
        batch_size: int = 1024,
        lr: float = 2e-3,
        hidden: int = 256,
        n_layers: int = 3,
        n_steps: int = 20,
        sampler: str = "auto",
        ema_decay: float = 0.999,
        cond_fraction: float = 0.3,
        dequantize: bool = True,
        atoms: str = "auto",
        precision: str = "auto",
        max_time: float | None = None,
        device="auto",
        verbose: bool = False,
        random_state=None,
        epsilon: float | None = None,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        domain: dict | None = None,
        postprocess="default",
    ):
        store_params(self, locals())

    #: Post-processors (tabgen.synthesizers.postprocess): category dependencies and the
    #: discriminator selection (2 or 4 candidates per row, see ``sampler``) lower
    #: gradient-boosting detection on Adult at the full training budget without moving DCR
    #: share or membership AUC; snapping changed nothing; the binary conditionals raise the
    #: MLE AUC where the denoiser's conditional of a two-level column is smoother than the
    #: data's (figures: bench_diffusion_ablation.py, bench_diffusion_speed.py,
    #: benchmarks/RESULTS.md). ``inpaint`` never selects (it completes given rows).
    default_postprocessors = ("dependencies", "selection", "conditionals")
    #: The selection's second stage of boosted trees (postprocess/trees.py; figures:
    #: benchmarks/RESULTS.md, diffusion_selection_trees).
    _selection_trees = True

    @classmethod
    def from_preset(cls, name: str, **params) -> DiffusionSynthesizer:
        """A model with the named settings (``"cpu"``: the defaults; ``"gpu"``: longer,
        larger), overridden by ``params``."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; available: {sorted(PRESETS)}")
        return cls(**{**PRESETS[name], **params})

    # -- validation -------------------------------------------------------------------------
    def _validate_params(self) -> None:
        check_positive_ints(self, "hidden", "n_layers", "n_steps")
        check_training_params(self)
        if not isinstance(self.ema_decay, numbers.Real) or not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        if not isinstance(self.cond_fraction, numbers.Real) or not 0 <= self.cond_fraction <= 1:
            raise ValueError(f"cond_fraction must be in [0, 1], got {self.cond_fraction!r}")
        if not isinstance(self.dequantize, (bool, np.bool_)):
            raise ValueError(f"dequantize must be True or False, got {self.dequantize!r}")
        if self.atoms not in _ATOMS:
            raise ValueError(f"atoms must be one of {_ATOMS}, got {self.atoms!r}")
        if self.precision not in ("auto", "float32"):
            raise ValueError(f"precision must be 'auto' or 'float32', got {self.precision!r}")
        if self.sampler not in _SAMPLERS:
            raise ValueError(f"sampler must be one of {_SAMPLERS}, got {self.sampler!r}")
        check_dp_params(self)

    # -- fit --------------------------------------------------------------------------------
    def _build_denoiser(self, dim: int) -> process.MixedDenoiser:
        options = getattr(self, "network_options_", {})  # a model file's, or this fit's
        network = MLPDenoiser(dim, self.hidden, self.n_layers, self.layout_.continuous, **options)
        return process.MixedDenoiser(network, self.layout_, sigma_data=_SIGMA_DATA)

    def _dequantize_rng(self, rng):
        return rng if self.dequantize else None

    def _make_encoder(self) -> TableEncoder:
        # DP: the released domain describes quantile marginals, not atom counts
        if self.atoms != "interval" and self.epsilon is None:
            return TableEncoder(numerical=self.atoms, categorical="onehot")
        return super()._make_encoder()

    def _fit(self, Z, rng):
        self._train(Z, rng, None)

    def _fit_private(self, Z, rng, budget) -> dict:
        """DP-SGD training of the denoiser (the encoder state is already private, see ``fit``).

        Data-dependent steps of the ordinary fit and what DP mode does instead: the output
        bias (``process.prior_logits``: category frequencies and missing rates of the rows)
        comes from the released encoder state (:func:`process.public_prior_logits`); the
        denoiser is trained by DP-SGD (:mod:`~tabgen.synthesizers.diffusion.training`); its
        weight average is post-processing. There is no normalisation or other cross-row
        layer to replace.
        """
        report = self._train(Z, rng, self._dpsgd_settings(budget, len(Z)))
        if report is None:  # only constant / id columns: nothing was trained
            report = untrained_privacy_report(private_network="denoiser")
        return report

    def _n_epochs(self, n_rows: int) -> int:
        """As for every neural model (``_neural.py``), except that bfloat16's extra steps
        raise the passes over a table to at most ``_LOW_PRECISION_MAX_EPOCHS`` (or float32's
        default passes where those are more)."""
        epochs = super()._n_epochs(n_rows)
        if self.epochs is None and self.epsilon is None and self._trains_low_precision():
            plain = epochs_for_steps(n_rows, self.batch_size, _TARGET_STEPS, _EPOCH_RANGE)
            epochs = min(epochs, max(plain, _LOW_PRECISION_MAX_EPOCHS))
        return epochs

    def _epoch_defaults(self):  # see the class docstring
        if self._trains_low_precision():
            low, high = _EPOCH_RANGE
            bounds = (round(low * _LOW_PRECISION_STEPS), high)
            return round(_TARGET_STEPS * _LOW_PRECISION_STEPS), bounds, _DP_EPOCHS
        return _TARGET_STEPS, _EPOCH_RANGE, _DP_EPOCHS

    def _imputation_params(self, n_rows: int) -> dict:
        """The settings an imputer's fit on ``n_rows`` rows replaces (see
        :class:`~tabgen.pipelines.SyntheticImputer`): with the default ``epochs``, the step
        target without the bound on passes, which is there to keep sampled rows from copying
        training rows (an imputer releases no sampled row, and more steps fill a small
        table's cells better); with ``atoms="auto"``, the interval encoding, which fills
        numbers closer to the truth (``impute_atoms_*`` in ``benchmarks/RESULTS.md``); with
        the default ``postprocess``, no candidate selection and no binary conditionals
        (inpainting never selects, and the conditionals leave rows with conditions alone:
        their trees would only cost fit time; the filled cells are the same)."""
        out = {}
        if self.epochs is None and self.epsilon is None:
            steps, (low, _), _ = self._epoch_defaults()
            bounds = (low, _UNRELEASED_MAX_EPOCHS)
            out["epochs"] = epochs_for_steps(n_rows, self.batch_size, steps, bounds)
        if self.epsilon is None and check_postprocess(self.postprocess) is None:
            out["postprocess"] = tuple(
                p for p in self.default_postprocessors if p not in ("selection", "conditionals")
            )
        if self.atoms == "auto":
            out["atoms"] = "interval"
        return out

    def _trains_low_precision(self) -> bool:
        """Whether the denoiser trains with bfloat16 products: natively supported on the
        fit's device (before a fit: the ``device`` parameter's), and not under DP-SGD."""
        if self.precision != "auto" or not _TRAIN_LOW_PRECISION or self.epsilon is not None:
            return False
        device = getattr(self, "device_", None)
        return low_precision_fast(device or resolve_device(self.device, strict=False))

    def _train(self, Z, rng, privacy) -> dict | None:
        """Build and train the denoiser (DP-SGD with ``privacy`` settings); the privacy
        report of a DP run."""
        start = time.monotonic()
        self._start_training(process.Layout.from_spans(self.encoder_.spans, Z.shape[1]))
        private = privacy is not None
        self.network_options_ = {"n_periodic": 0 if private else _N_PERIODIC}  # Opacus: Linear
        if Z.shape[1] == 0:  # only constant / id columns: nothing to learn
            return None
        self.sampler_, self.sampler_check_ = self.sampler, {}
        distilled = self.sampler in ("auto", "distilled")
        teacher_time = self.max_time
        if self.max_time is not None and distilled:
            teacher_time = _TEACHER_TIME_SHARE * float(self.max_time)
        gen = torch_generator(rng, self.device_)
        model = self._build_denoiser(Z.shape[1])
        init_parameters(model, torch_generator(rng))
        if privacy is None:
            bias = process.prior_logits(Z, self.layout_)
        else:  # from the released encoder state
            bias = process.public_prior_logits(self.encoder_, self.layout_)
        model.network.set_output_bias(bias)
        model.to(self.device_)
        X = torch.from_numpy(process.to_model(Z, self.layout_)).to(self.device_)
        config = TrainConfig(
            epochs=self._n_epochs(X.shape[0]),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            ema_decay=float(self.ema_decay),
            max_time=teacher_time,
            verbose=bool(self.verbose),
            lr_warmup=_LR_WARMUP,
            low_precision=self._trains_low_precision(),
            noise=process.NoiseSettings(
                p_mean=_DP_P_MEAN if private else _P_MEAN,
                p_std=_P_STD,
                cond_prob=float(self.cond_fraction),
                uniform_frac=_UNIFORM_FRAC,
                sigma_max=_TRAIN_SIGMA_MAX,
                cat_weight=_DP_CAT_WEIGHT if private else _CAT_WEIGHT,
            ),
        )
        log, self.denoiser_, report = train(model, X, gen, config, privacy)
        self._record_training(log, loss_history_=log.losses)
        self.student_ = None
        if distilled:
            left = None  # the rest of the budget, less the post-processors' reserve
            if self.max_time is not None:
                left = (1 - _POSTPROCESS_TIME_SHARE) * float(self.max_time)
                left = max(left - (time.monotonic() - start), 0.0)
            self.student_ = self._distill(log.n_steps, len(X), gen, max_time=left)
        if self.sampler == "auto":  # before the post-processors: they learn its rows
            left = (
                None if self.max_time is None else float(self.max_time) - (time.monotonic() - start)
            )
            self.sampler_, self.sampler_check_ = gate.fit_choice(
                self, Z, rng, private=privacy is not None, time_left=left
            )
        return report

    def _distill(
        self, teacher_steps: int, rows: int, generator, max_time: float | None = None
    ) -> process.MixedDenoiser:
        """The one-step student of the trained denoiser (:mod:`.distill`): about
        ``_DISTILL_STEP_SHARE`` (bfloat16: ``_LOW``) of the denoiser's optimiser steps, on up
        to ``_DISTILL_PAIRS`` solutions of the teacher (Heun, ``n_steps``) from fresh noise;
        within ``max_time`` seconds when given (pairs then solved four batches at a time)."""
        share = _DISTILL_STEP_SHARE_LOW if self._trains_low_precision() else _DISTILL_STEP_SHARE
        steps = max(1, round(share * teacher_steps))
        batch = min(int(self.batch_size), rows)
        config = DistillConfig(
            pairs=max(batch, min(_DISTILL_PAIRS, steps * batch // 4)),
            steps=steps,
            sigma_max=_SIGMA_MAX,
            teacher_sigmas=schedule.karras_sigmas(self.n_steps, sigma_max=_SIGMA_MAX),
            teacher_method=_DISTILL_TEACHER,
            batch_size=batch,
            lr=float(self.lr) / 2,
            low_precision=low_precision_fast(self.device_),
            max_time=max_time,
            pair_chunk=_DISTILL_CHUNK if max_time is None else 4 * batch,
        )
        if self.verbose:
            logger.info("distilling the sampler: %d pairs, %d steps", config.pairs, steps)
        return distill(self.denoiser_, config, generator, self.device_)

    # -- sample -----------------------------------------------------------------------------
    def _generate(self, n: int, known, mask, rng, sampler: str | None = None) -> np.ndarray:
        """Encoded rows: float64, except the distilled sampler's float32 (see ``_draw``);
        ``sampler``: that of unconditional rows (default: :func:`.gate.in_use`)."""
        sampler = sampler or gate.in_use(self)
        dim = self.layout_.dim
        if dim == 0:
            return np.zeros((n, 0))
        device = self._runtime_device()
        gen = torch_generator(rng, device)
        # bfloat16 for unconditional rows (measured); conditions and inpainting stay float32
        low = known is None and low_precision_fast(device)
        if known is None and sampler == "distilled":
            student = self._student().to(device)
            return student_rows(student, n, _SIGMA_MAX, gen, device, low, _DISTILL_CHUNK)
        sigmas = schedule.karras_sigmas(self.n_steps, sigma_max=_SIGMA_MAX)
        if known is not None:
            known = torch.from_numpy(known)
            mask = torch.from_numpy(mask)
        X = solve(
            self.denoiser_,
            n,
            dim,
            sigmas,
            gen,
            method="dpm" if known is None and sampler == "dpm" else "heun",
            known=known,
            mask=mask,
            churn=0.0 if known is None else _CHURN_CONDITIONAL,
            device=device,
            low_precision=low,  # False with conditions
        )
        return process.from_model(X, self.layout_)

    def _student(self) -> process.MixedDenoiser:
        """The distilled sampler; a clear error for a model fitted without it."""
        student = getattr(self, "student_", None)
        if student is None:
            raise ValueError(
                "sampler='distilled' needs a model fitted with it (this one was fitted with "
                "another sampler): refit, or set sampler='dpm' or 'heun'"
            )
        return student

    def _draw(self, n: int, conditions, rng) -> np.ndarray:
        """Unconditional rows of the distilled sampler: ``_DISTILL_DRAWS`` candidates per row
        for the discriminator selection, scored in bfloat16 where native, handled in
        float32 (memory traffic is most of their cost) and only the kept rows made float64;
        everything else as for any model."""
        if conditions is not None or gate.in_use(self) != "distilled":
            return super()._draw(n, conditions, rng)
        selection = self._postprocessor("discriminator")
        if selection is None:
            Z = self._sample(n, None, rng)
        else:
            low = low_precision_fast(self._runtime_device())
            Z = selection.draw(self, n, None, rng, draws=_DISTILL_DRAWS, low_precision=low)
        return Z.astype("float64", copy=False)

    def _sample(self, n, conditions: Conditions | None, rng):
        known = mask = None
        if conditions is not None:
            known, mask = condition_slots(self.encoder_, self.layout_, n, conditions)
        return self._generate(n, known, mask, rng)

    # -- persistence ------------------------------------------------------------------------
    def _get_state(self):
        state = {"dim": self.layout_.dim, **self._training_state()}
        state["network"] = self.network_options_
        arrays = {} if self.denoiser_ is None else weight_arrays(self.denoiser_.network)
        student = getattr(self, "student_", None)
        state["student"] = student is not None
        state["sampler"] = getattr(self, "sampler_", None)
        state["sampler_check"] = getattr(self, "sampler_check_", {})
        if student is not None:
            arrays.update(weight_arrays(student.network, "student."))
        return state, arrays

    def _set_state(self, state, arrays):
        self.layout_ = process.Layout.from_spans(self.encoder_.spans, int(state["dim"]))
        self._restore_training(state)
        self.network_options_ = dict(state.get("network", {}))  # older files: none
        self.denoiser_ = None
        if self.layout_.dim:
            denoiser = self._build_denoiser(self.layout_.dim)
            own = {k: v for k, v in arrays.items() if not k.startswith("student.")}
            load_weights(denoiser.network, own)
            self.denoiser_ = denoiser.requires_grad_(False).eval()
        self.student_ = None
        if state.get("student"):
            student = self._build_denoiser(self.layout_.dim)
            load_weights(student.network, arrays, "student.")
            self.student_ = student.requires_grad_(False).eval()
        # files written before sampler="auto": the choice is the parameter's
        self.sampler_ = state.get("sampler") or gate.in_use(self)
        self.sampler_check_ = dict(state.get("sampler_check") or {})

    @classmethod
    def _test_params(cls):
        return {"epochs": 30, "batch_size": 128, "hidden": 32, "n_layers": 1, "n_steps": 6}
