"""``GANSynthesizer``: a conditional tabular GAN in the CTGAN family (Xu et al., 2019)."""

from __future__ import annotations

import logging
import numbers

import numpy as np
import pandas as pd
import torch
from scipy.special import ndtri

from tabgen._params import store_params
from tabgen._progress import chunks
from tabgen._rng import torch_generator
from tabgen.encoders import TableEncoder
from tabgen.encoders.numerical import EPS as _QUANTILE_EPS
from tabgen.nn import build_module
from tabgen.nn.device import low_precision_fast
from tabgen.nn.params import check_positive_ints, check_training_params
from tabgen.privacy._params import check_dp_params
from tabgen.synthesizers._docs import shared_parameters
from tabgen.synthesizers._neural import NeuralSynthesizer, untrained_privacy_report
from tabgen.synthesizers.base import BaseSynthesizer, Conditions
from tabgen.synthesizers.gan.conditioning import (
    numeric_conditions,
    numeric_quantiles,
    sample_with_conditions,
)
from tabgen.synthesizers.gan.critic import Critic
from tabgen.synthesizers.gan.generator import Generator
from tabgen.synthesizers.gan.layout import GanLayout
from tabgen.synthesizers.gan.networks import build_critic, build_generator, generate_compact
from tabgen.synthesizers.gan.private import (
    PrivateGanConfig,
    released_counts,
    released_quantiles,
    shrink_continuous_heads,
    train_private,
)
from tabgen.synthesizers.gan.sampler import ConditionSampler
from tabgen.synthesizers.gan.state import get_state, set_state
from tabgen.synthesizers.gan.training import GanParts, GanTrainer
from tabgen.synthesizers.postprocess.density_ratio import pick_per_row
from tabgen.synthesizers.postprocess.selection import CHUNK

logger = logging.getLogger("tabgen")

#: Generator updates that ``epochs=None`` aims at, and its bounds on the number of epochs.
_TARGET_STEPS = 8_000
_EPOCH_RANGE = (100, 300)
#: Default ``epochs`` of a differentially private fit (expected passes of the critic).
_DP_EPOCHS = 20
#: Bound of the quantile-normal values (``ndtri(1 - EPS)``, about 5.2): the continuous slots
#: of the DP mode are divided by it so that the generator's ``tanh`` heads cover them.
_QUANTILE_BOUND = float(-ndtri(_QUANTILE_EPS))


@shared_parameters(
    clipped="the critic's DP-SGD",
    privacy_keys=' (private critic steps), ``private_network`` (``"critic"``), ``loss``',
)
class GANSynthesizer(NeuralSynthesizer, BaseSynthesizer):
    """Conditional tabular GAN: mode-specific normalization, training-by-sampling, a PacGAN
    critic with the WGAN-GP loss, a residual generator with layout-driven heads.

    Numbers are encoded as a scalar within one mode of a variational Gaussian mixture plus a
    one-hot of the mode; categories as codes, expanded into one-hot blocks batch by batch (so
    memory does not grow with ``rows x levels``). Each training step draws a conditional
    vector (a categorical column uniformly, then a category by log-frequency) and real rows
    holding it; the generator also pays a cross-entropy for ignoring the condition. Missing
    cells are one more category of their column (or a two-way block for numbers), so their
    rates come through the same machinery. The generator that samples is a running average
    of the trained weights, with its batch-norm statistics re-estimated at the end on
    batches like the training ones (conditions by log-frequency): the weights learnt each
    conditional law under those statistics. Generation then draws the conditions by the
    categories' training frequencies, so that the rows follow the data's joint law.

    Conditions: one categorical column is native and exact (conditional vector, cell set to
    the asked category). Several categorical columns, or numbers, add a bounded rejection
    step on top (a number is met by generated values within about 2% of training
    probability of it, then written exactly); a combination the model does not produce
    fails fast with a ``ValueError`` naming it.

    Parameters
    ----------
    [common parameters]
    epochs : int, optional
        Passes over the training rows (``n_rows // batch_size`` steps each). By default,
        enough passes for about 8,000 generator updates, within 100 to 300 epochs: an
        adversarial game needs a number of updates more than a number of passes, so that
        small tables train for more epochs (124 epochs on Adult's 32,561 rows; the upper
        bound, 300, below about 13,500 rows).
    batch_size : int, default=500
        Rows per step; a multiple of ``pac``.
    lr : float, default=5e-4
        Adam learning rate of generator and critic (betas 0.5, 0.9).
    embedding_dim : int, default=128
        Width of the generator's noise input.
    generator_dim : sequence of int, default=(256, 256)
        Widths of the generator's residual blocks.
    critic_dim : sequence of int, default=(256, 256)
        Widths of the critic's hidden layers.
    pac : int, default=10
        Rows the critic scores together (PacGAN).
    critic_steps : int, default=1
        Critic updates per generator update.
    [training parameters]
    epsilon : float, optional
        Train with ``(epsilon, delta)``-differential privacy (``None``: ordinary training).
        10 % of ``epsilon`` measures the domain and the marginal histograms
        (:mod:`tabgen.privacy.domain`); numbers are then encoded by their released
        quantiles and categories by their released sets and frequencies. Only the critic
        reads the rows, trained with DP-SGD through Opacus (:mod:`tabgen.privacy.dpsgd`);
        the generator learns only through it (post-processing). What differs from the
        ordinary fit and why (Poisson batches instead of training-by-sampling, ``pac=1``,
        the logistic loss instead of the gradient penalty) is explained in
        :mod:`tabgen.synthesizers.gan.private`. ``epochs`` counts expected passes of the
        critic (default 20 in DP mode). Needs ``pip install "tabgen[dp]"``.
    [DP parameters]
    selection : {"discriminator", None}, default="discriminator"
        After training, fit a row-level discriminator between the training rows and
        generated rows (a small MLP with early stopping on held-out rows; the WGAN critic
        scores packs and is not a density ratio), and at sampling time draw
        ``selection_draws`` candidates per row and keep one with probability proportional
        to the discriminator's odds, an estimate of ``p_real(x) / p_model(x)``
        (sampling-importance-resampling, as in discriminator rejection sampling; see
        :mod:`tabgen.synthesizers.postprocess.selection`). Conditioned cells are kept
        exactly. Off in the differentially private mode (it would read the rows outside the
        accounting); a fit from a file trains it on the encoders' uniform sample. On Adult
        (one fit, sampled with and without it; ``benchmarks/RESULTS.md``) it moved MLE AUC
        from .892 to .896, trend from .880 to .918 and detection from .276 to .351, for
        2.7 s more sampling of 32,561 rows. Candidates are scored from their encoded rows
        (only the kept rows are decoded), and where the processor multiplies bfloat16
        natively (AVX-512 BF16, AMX, CUDA) the candidates' generator and discriminator
        products run in bfloat16 (the numbers' ``tanh`` heads compensated to stay
        continuous): a fixed seed then gives other rows than on a processor without it, of
        the same quality (``benchmarks/RESULTS.md``, sampling throughput).
    selection_draws : int, default=4
        Candidates per returned row for ``selection="discriminator"``; 1 returns the
        generator's rows as they come (can be changed after fitting with ``set_params``).
    [postprocess parameter]

    Notes
    -----
    Memory does not grow with ``rows x levels``: the training data stay category codes
    (expanded to one-hot batch by batch) and one-hot blocks wider than 64 enter both networks
    through a learned 32-wide embedding. A 5,000-level column costs about 1 MiB of
    activations per batch row (5,000-wide softmax, noise, gradient penalty) and a generator
    output layer of ``5,000 x sum(generator_dim)`` weights.

    Attributes
    ----------
    [fitted attributes]
    dependencies_ : list
        ``(column, determinant, {level: value})`` for every column that is a function of
        one categorical column in the training rows (e.g. ``education -> education_num``);
        generated rows follow it (:mod:`tabgen.synthesizers.postprocess.structure`; found
        on the encoders' sample for a fit from a file). Empty after a differentially
        private fit.
    supports_ : dict
        ``{column: training values}`` of the numeric columns with few distinct values (at
        most 5 % of their rows): generated numbers are moved to the nearest of them, as
        TabDDPM does, so that spikes such as a mostly-zero ``capital_gain`` keep their
        real share (figures in ``benchmarks/RESULTS.md``). Empty after a differentially
        private fit.
    encoder_ : TableEncoder
        The fitted encoder (mode-specific numbers, category codes).
    discriminator_ : torch.nn.Module or None
        The row discriminator of ``selection="discriminator"`` (``None`` when off).
    discriminator_info_ : dict
        Its training epochs and held-out log-loss (``log 2 = 0.693``: it cannot tell the
        generated rows from the real ones).
    generator_ : torch.nn.Module or None
        The trained generator (``None`` when the table has nothing to learn).
    loss_history_ : list of float
        Mean generator loss of each epoch.
        Empty after a differentially private fit (the raw losses are not private).
    critic_loss_history_ : list of float
        Mean critic loss of each epoch (Wasserstein distance estimate plus gradient
        penalty). Empty after a differentially private fit.
    [training attributes]

    Examples
    --------
    >>> import pandas as pd
    >>> from tabgen import GANSynthesizer
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 33] * 20,
    ...                    "job": ["a", "b", "a", "c", "b", "a"] * 20})
    >>> model = GANSynthesizer(epochs=2, batch_size=20, random_state=0).fit(df)
    >>> rows = model.sample(4, conditions={"job": "b"}, random_state=1)
    >>> rows["job"].tolist()
    ['b', 'b', 'b', 'b']

    With differential privacy (the critic trained by DP-SGD through Opacus):

    >>> dp = GANSynthesizer(epsilon=3.0, epochs=2, batch_size=30, embedding_dim=16,
    ...                     generator_dim=(32,), critic_dim=(32,),
    ...                     domain={"age": (18, 70)}, random_state=0).fit(df)
    >>> p = dp.privacy_
    >>> p["epsilon"] <= 3.0 * 1.01, p["accountant"], p["private_network"], p["steps"]
    (True, 'opacus rdp', 'critic', 8)
    """

    _loss_histories = (("generator", "loss_history_"), ("critic", "critic_loss_history_"))

    _numeric_conditions = True
    _supports_data_parallel = True  # under torchrun: see tabgen.scale.train_ddp
    _sampling_network = "generator_"

    def __init__(
        self,
        *,
        schema: dict | None = None,
        constraints: list | None = None,
        constraint_violations: str = "raise",
        epochs: int | None = None,
        batch_size: int = 500,
        lr: float = 5e-4,
        embedding_dim: int = 128,
        generator_dim=(256, 256),
        critic_dim=(256, 256),
        pac: int = 10,
        critic_steps: int = 1,
        max_time: float | None = None,
        device="auto",
        verbose: bool = False,
        random_state=None,
        epsilon: float | None = None,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        domain: dict | None = None,
        selection: str | None = "discriminator",
        selection_draws: int = 4,
        postprocess="default",
    ):
        store_params(self, locals())

    #: Critic loss of the DP mode (see :data:`tabgen.synthesizers.gan.private.LOSSES`).
    _dp_loss = "logistic"
    #: Start the continuous heads as the identity in the DP mode (see shrink_continuous_heads).
    _dp_shrink = True

    #: Post-processors (see tabgen.synthesizers.postprocess); "selection" only with
    #: ``selection="discriminator"`` and never in the DP mode.
    default_postprocessors = ("snap", "dependencies", "selection")
    _selects_natively = True  # inside the generation loop (see _generate)

    def _postprocessor_names(self) -> tuple:
        names = super()._postprocessor_names()
        return (
            names
            if self.selection == "discriminator"
            else tuple(n for n in names if n != "selection")
        )

    def _postprocess_rng(self, rng):
        return np.random.default_rng(self._refine_seed)  # drawn by _fit

    # -- parameters -------------------------------------------------------------------------
    def _validate_params(self) -> None:
        check_positive_ints(self, "embedding_dim", "pac", "critic_steps", "selection_draws")
        if self.batch_size % self._pac():
            raise ValueError(
                f"batch_size must be a multiple of pac, got batch_size={self.batch_size} and "
                f"pac={self.pac}"
            )
        for name in ("generator_dim", "critic_dim"):
            value = getattr(self, name)
            if (
                not isinstance(value, (list, tuple))
                or not value
                or not all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                    for v in value
                )
            ):
                raise ValueError(
                    f"{name} must be a non-empty sequence of positive integers, got {value!r}"
                )
        check_training_params(self)
        if self.selection not in ("discriminator", None):
            raise ValueError(f"selection must be 'discriminator' or None, got {self.selection!r}")
        check_dp_params(self)

    def _pac(self) -> int:
        """Rows per critic pack: ``pac``, or 1 in DP mode (see the ``epsilon`` entry)."""
        return 1 if self.epsilon is not None else self.pac

    def _make_encoder(self) -> TableEncoder:
        if self.epsilon is not None:  # the mixture of mode-specific numbers reads the rows
            return TableEncoder(numerical="quantile", categorical="ordinal")
        return TableEncoder(numerical="mode_specific", categorical="ordinal")

    def _make_layout(self) -> GanLayout:
        """The expanded layout; quantile-normal numbers (DP mode) are scaled into the range
        of the ``tanh`` heads."""
        quantile = getattr(self.encoder_, "numerical", None) == "quantile"
        return GanLayout(self.encoder_.spans, _QUANTILE_BOUND if quantile else 1.0)

    # -- fit --------------------------------------------------------------------------------
    def _build_generator(self) -> Generator:
        return build_generator(self.layout_, self.embedding_dim, self.generator_dim)

    def _build_critic(self) -> Critic:
        return build_critic(self.layout_, self.critic_dim, self._pac())

    def _fit(self, Z, rng):
        self._refine_seed = int(rng.integers(0, 2**63 - 1))
        self._start_training(self._make_layout())
        self.quantiles_ = {}
        if self.layout_.width == 0:
            self.sampler_ = ConditionSampler.from_counts(np.zeros(0, "int64"), [])
            return
        dense, codes, self.sampler_ = self._training_data(Z)
        self.quantiles_ = numeric_quantiles(self.schema_, self.encoder_, Z)
        parts = self._parts(rng, dense, codes)
        trainer = GanTrainer(
            parts,
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            critic_steps=int(self.critic_steps),
        )
        log = trainer.run(
            epochs=self._n_epochs(len(dense)), max_time=self.max_time, verbose=self.verbose
        )
        self._record_training(
            log,
            loss_history_=log.history.get("generator", []),
            critic_loss_history_=log.history.get("critic", []),
        )
        self.generator_ = trainer.sampling_generator()

    def _parts(self, rng, dense, codes, shrink: bool = False) -> GanParts:
        """Training rows on the device, the ``(cpu, device)`` generators of a fit and the
        initialised networks (``shrink``: continuous heads start as the identity, see
        :func:`shrink_continuous_heads`)."""
        cpu_gen = torch_generator(rng, "cpu")
        dev_gen = cpu_gen if self.device_.type == "cpu" else torch_generator(rng, self.device_)
        generator = build_module(self._build_generator, cpu_gen)
        if shrink:
            shrink_continuous_heads(generator, self.layout_)
        critic = build_module(self._build_critic, cpu_gen).to(self.device_)
        return GanParts(
            generator.to(self.device_), critic, self.layout_, self.sampler_,
            torch.as_tensor(dense, device=self.device_),
            torch.as_tensor(codes, device=self.device_), self.embedding_dim, cpu_gen, dev_gen,
        )  # fmt: skip

    def _fit_private(self, Z, rng, budget) -> dict:
        """Differentially private training (the encoder state is already private, see
        ``fit`` and :mod:`tabgen.synthesizers.gan.private`).

        Data-dependent steps of the ordinary fit and what DP mode does instead: the
        mode-specific mixture is replaced by the released quantiles; the condition sampler
        (training-by-sampling, generation's category frequencies) by one built from the
        released frequencies, and the real rows by Poisson batches; the numeric quantiles
        that condition windows use come from the released CDFs; the critic is trained by
        DP-SGD (pac 1, no gradient penalty). The generator reads no row: its updates, its
        weight average and its batch-norm re-estimation (on generated rows) are
        post-processing. The generator has no data-dependent initialisation to replace.
        """
        # no row discriminator: it would read the rows outside the DP accounting
        self._start_training(self._make_layout())
        counts = released_counts(self.encoder_, self.layout_)
        self.sampler_ = ConditionSampler.from_counts(counts, self.layout_.sizes)
        self.quantiles_ = released_quantiles(self.schema_, self.encoder_)
        if self.layout_.width == 0:  # only constant / id columns: nothing to learn
            return untrained_privacy_report()
        parts = self._parts(rng, self.layout_.dense_part(Z), self.layout_.codes(Z), self._dp_shrink)
        config = PrivateGanConfig(
            epochs=self._n_epochs(len(Z)),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            critic_steps=int(self.critic_steps),
            max_time=self.max_time,
            verbose=bool(self.verbose),
            loss=self._dp_loss,
        )
        log, report, self.generator_ = train_private(
            parts, config, float(self.max_grad_norm), budget
        )
        # no critic history: the critic's raw loss reads the rows without noise
        self._record_training(log, loss_history_=log.history.get("generator", []))
        return report

    def _epoch_defaults(self):  # see the class docstring
        return _TARGET_STEPS, _EPOCH_RANGE, _DP_EPOCHS

    def _training_data(self, Z):
        lay = self.layout_
        codes = lay.codes(Z)  # missing cells are a category of their own
        sampler = ConditionSampler(codes, np.ones(codes.shape, dtype=bool), lay.sizes)
        return lay.dense_part(Z), codes, sampler

    # -- sample -----------------------------------------------------------------------------
    def _generate(self, category, n: int, gens, observed=()) -> np.ndarray:
        """Encoder matrix of ``n`` rows (see :meth:`_generate_once`), each the pick of
        ``selection_draws`` candidates by the row discriminator when there is one."""
        selection = self._postprocessor("discriminator")
        k = int(self.selection_draws)
        if selection is None or k < 2 or n == 0:
            return self._generate_once(category, n, gens, observed)
        out = np.empty((n, self.layout_.compact_width))
        low = low_precision_fast(self._runtime_device())
        selection.prepare(self, low_precision=low)  # before batches are scored by threads
        step = _selection_rows(k, self.layout_.compact_width) if low else CHUNK
        for a in chunks(n, step):  # bounded memory: k x step candidates at a time
            m = min(step, n - a)
            cat = None if category is None else np.tile(np.asarray(category)[a : a + m], k)
            # scored from their encoded rows: only the kept rows are decoded
            if low:  # each batch scored as it is generated (in bfloat16)
                Z, logits = self._generate_once(
                    cat, k * m, gens, observed, low_precision=True,
                    score=lambda rows: selection.score_encoded(self, rows, low_precision=True),
                )  # fmt: skip
            else:
                Z = self._generate_once(cat, k * m, gens, observed)
                logits = selection.score_encoded(self, Z)
            u = torch.rand(m, generator=gens[0], dtype=torch.float64).numpy()
            out[a : a + m] = Z[pick_per_row(logits, k, u)]  # float32 or float64 -> float64
        return out

    def _generate_once(
        self, category, n: int, gens, observed=(), low_precision: bool = False, score=None
    ):
        """Encoder matrix of ``n`` rows; ``category`` fixes each row's conditional vector
        (``None``: drawn from the training frequencies); ``gens`` is the ``(cpu, device)``
        pair of generators; ``observed`` columns come out non-missing; ``low_precision``:
        bfloat16 products (the selection's candidates, where they are native); ``score``:
        each batch scored as it is generated (see :func:`.networks.generate_compact`)."""
        return generate_compact(
            self.generator_, self.layout_, self.sampler_, self.embedding_dim, category, n, gens,
            observed, low_precision, score,
        )  # fmt: skip

    def _sample(self, n, conditions: Conditions | None, rng):
        if self.generator_ is None:
            return np.zeros((n, self.layout_.compact_width))
        device = self._runtime_device()
        cpu_gen = torch_generator(rng, "cpu")
        gens = (cpu_gen, cpu_gen if device.type == "cpu" else torch_generator(rng, device))
        if conditions is None:
            return self._generate(None, n, gens)
        observed = tuple(getattr(conditions, "present", ()))
        if not conditions.columns:
            return self._generate(None, n, gens, observed)
        return sample_with_conditions(
            lambda cat, m: self._generate(cat, m, gens, observed),
            self.layout_,
            self.sampler_,
            conditions,
            numeric_conditions(
                self.schema_, self.encoder_, self.layout_, self.quantiles_, conditions
            ),
        )

    def _encoder_units(self, Z: np.ndarray) -> np.ndarray:
        # generated continuous slots are in the layout's units (see GanLayout.to_encoder)
        return self.layout_.to_encoder(Z)

    def _decode(self, Z: np.ndarray, id_offset: int) -> pd.DataFrame:
        return super()._decode(self._encoder_units(Z), id_offset)

    # -- persistence ------------------------------------------------------------------------
    def _get_state(self):
        return get_state(self)

    def _set_state(self, state, arrays):
        set_state(self, state, arrays)

    @classmethod
    def _test_params(cls) -> dict:
        return {
            "epochs": 60,
            "batch_size": 200,
            "lr": 1e-3,
            "embedding_dim": 32,
            "generator_dim": (64, 64),
            "critic_dim": (64, 64),
        }


#: Bytes of candidates (float32) selected from per pass where they are bfloat16 (see
#: :func:`_selection_rows`).
SELECTION_BYTES = 12 * 2**20


def _selection_rows(draws: int, width: int) -> int:
    """Rows selected per pass when the candidates are bfloat16: their matrix stays about
    :data:`SELECTION_BYTES` (13,312 rows of Adult), so that a sampling thread's memory fits
    in the heap malloc keeps for it instead of heaps mapped, faulted in and deleted again
    for every batch (a few % of the CPU time on two threads); a multiple of 1,024 (whole
    generator batches for four candidates), at most ``CHUNK``."""
    rows = SELECTION_BYTES // (4 * draws * max(width, 1)) // 1_024 * 1_024
    return int(min(CHUNK, max(1_024, rows)))
