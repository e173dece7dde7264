"""``VAESynthesizer``: a conditional tabular VAE over the table encoding."""

from __future__ import annotations

import numpy as np
import torch

from tabgen._params import store_params
from tabgen._progress import chunks
from tabgen._rng import torch_generator
from tabgen.nn import build_module, load_weights, weight_arrays
from tabgen.nn.params import check_positive_ints, check_ranges, check_training_params
from tabgen.nn.rows import ArrayRows
from tabgen.privacy._params import check_dp_params
from tabgen.synthesizers._docs import shared_parameters
from tabgen.synthesizers._neural import NeuralSynthesizer, untrained_privacy_report
from tabgen.synthesizers.base import BaseSynthesizer, Conditions
from tabgen.synthesizers.vae.conditioning import ConditionBuilder
from tabgen.synthesizers.vae.decoder import Decoder, draw_rows, prior_bias, public_prior_bias
from tabgen.synthesizers.vae.encoder import Encoder
from tabgen.synthesizers.vae.layout import Layout
from tabgen.synthesizers.vae.training import TrainConfig, train

_SAMPLE_CHUNK = 20_000  # rows decoded at once


@shared_parameters()
class VAESynthesizer(NeuralSynthesizer, BaseSynthesizer):
    """Conditional tabular VAE (TVAE-style, with a masked condition vector).

    Numbers and datetimes are mapped to standard normals through their empirical CDF (tied
    values spread over their quantile interval), categories to one-hot blocks and missing
    cells to binary indicators. An MLP encoder maps a row to a diagonal Gaussian over the
    latent; an MLP decoder maps a latent draw to a Gaussian mean per number (with a learned
    per-slot scale), logits per category block and per missingness indicator. Training
    minimises the negative ELBO (Gaussian NLL + cross-entropies + ``beta`` x KL, the KL weight
    warmed up from 0); sampling decodes standard-normal latents and draws every slot from its
    output distribution.

    Both networks also read a *condition vector*: the encoded values of a random subset of
    the row's columns plus one include-flag per column (no column for about half the rows).
    Conditioning on any categorical or numeric columns is therefore native: the decoder gets
    the condition vector and the fixed slots are written exactly; no rejection is needed.

    Parameters
    ----------
    [common parameters]
    epochs : int, default=100
        Passes over the training rows.
    batch_size : int, default=500
        Rows per optimiser step (capped at the number of training rows).
    lr : float, default=1e-3
        Peak Adam learning rate (cosine decay to 0).
    latent_dim : int, default=64
        Size of the latent.
    hidden : int, default=256
        Width of the hidden layers of encoder and decoder.
    n_layers : int, default=2
        Hidden layers of encoder and decoder.
    beta : float, default=0.5
        Weight of the KL term (1 is the ELBO; TVAE's default weighting is 0.5).
    beta_warmup : float, default=0.1
        Fraction of the training steps over which the KL weight rises from 0 to ``beta``.
    cond_fraction : float, default=0.5
        Fraction of the training rows that see a random subset of their columns as a
        condition; 0 trains an unconditional model (conditions then only fix the slots).
    ema_decay : float, default=0.995
        Decay of the decoder weight average used for sampling (0: the last weights).
    weight_decay : float, default=1e-5
        L2 penalty of Adam.
    scale : {"slot", "row"}, default="slot"
        Scale of the Gaussian of each number: one learned value per column (``"slot"``, as
        in TVAE) or predicted per row by the decoder (``"row"``, heteroscedastic; on Adult
        it scored worse than ``"slot"``: GB-detection score 0.11 against 0.50).
    [training parameters]
    epsilon : float, optional
        Train with ``(epsilon, delta)``-differential privacy (``None``: ordinary training).
        10 % of ``epsilon`` measures the domain and the marginal histograms that the
        quantile encoder needs (:mod:`tabgen.privacy.domain`, Laplace mechanism); the rest
        trains encoder, decoder and conditional prior together with DP-SGD through Opacus
        (:mod:`tabgen.privacy.dpsgd`: per-sample clipping, Poisson sampling with expected
        batch ``batch_size``, noise calibrated for ``epochs`` passes, RDP accountant).
        Nothing else reads the rows: the output biases come from the released frequencies.
        Needs ``pip install "tabgen[dp]"``.
    [DP parameters]
    [postprocess parameter]

    Attributes
    ----------
    encoder_ : TableEncoder
        The fitted table encoder (quantile-normal numbers, one-hot categories).
    [fitted attributes]
    decoder_ : torch.nn.Module or None
        The (weight-averaged) decoder used for sampling; ``None`` when there is nothing to
        learn (only constant or id columns).
    loss_history_ : list of float
        Mean training loss (negative ELBO, nats per row) of each epoch.
        Empty after a differentially private fit (the raw losses are not private).
    [training attributes]

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tabgen import VAESynthesizer
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(20, 70, 200),
    ...                    "job": rng.choice(["a", "b", "c"], 200)})
    >>> model = VAESynthesizer(epochs=3, hidden=32, random_state=0).fit(df)
    >>> rows = model.sample(4, conditions={"job": "b"}, random_state=1)
    >>> rows["job"].tolist()
    ['b', 'b', 'b', 'b']

    With differential privacy (DP-SGD through Opacus):

    >>> dp = VAESynthesizer(epsilon=3.0, epochs=2, batch_size=50, hidden=16,
    ...                     domain={"age": (18, 70)}, random_state=0).fit(df)
    >>> p = dp.privacy_
    >>> p["epsilon"] <= 3.0 * 1.01, p["accountant"], p["steps"]
    (True, 'opacus rdp', 8)
    """

    _numeric_conditions = True
    _row_conditions = True  # the condition vector is per row: no grouping by pattern
    _supports_inpainting = True
    _supports_data_parallel = True  # under torchrun, see training.train
    _streams_training_data = True  # fit(path): a memmap read by minibatches
    _sampling_network = "decoder_"

    def __init__(
        self,
        *,
        schema: dict | None = None,
        constraints: list | None = None,
        constraint_violations: str = "raise",
        epochs: int = 100,
        batch_size: int = 500,
        lr: float = 1e-3,
        latent_dim: int = 64,
        hidden: int = 256,
        n_layers: int = 2,
        beta: float = 0.5,
        beta_warmup: float = 0.1,
        cond_fraction: float = 0.5,
        ema_decay: float = 0.995,
        weight_decay: float = 1e-5,
        scale: str = "slot",
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

    #: Post-processors (tabgen.synthesizers.postprocess): category dependencies measured
    #: better on Adult; snapping changed nothing and selection cost shape and trend
    #: (benchmarks/bench_postprocess.py, RESULTS.md).
    default_postprocessors = ("dependencies",)
    #: With ``constraints``, fixed combinations keep their folded columns as modelled copies
    #: (see ``_Joint`` in tabgen.constraints.steps): +0.01 trend on adult (RESULTS.md).
    _constraint_copies = True

    # -- validation -------------------------------------------------------------------------
    def _validate_params(self) -> None:
        check_positive_ints(self, "latent_dim", "hidden", "n_layers")
        check_training_params(self)
        check_ranges(
            self,
            {
                "beta": lambda v: v >= 0,
                "weight_decay": lambda v: v >= 0,
                "beta_warmup": lambda v: 0 <= v <= 1,
                "cond_fraction": lambda v: 0 <= v <= 1,
                "ema_decay": lambda v: 0 <= v < 1,
            },
        )
        if self.scale not in ("slot", "row"):
            raise ValueError(f"scale must be 'slot' or 'row', got {self.scale!r}")
        check_dp_params(self)

    # -- fit --------------------------------------------------------------------------------
    def _build_decoder(self) -> Decoder:
        layout = self.layout_
        return Decoder(
            layout.dim,
            len(layout.continuous),
            layout.cond_width,
            self.latent_dim,
            self.hidden,
            self.n_layers,
            per_row_scale=self.scale == "row",
        )

    def _build_encoder(self) -> Encoder:
        layout = self.layout_
        return Encoder(layout.dim, layout.cond_width, self.latent_dim, self.hidden, self.n_layers)

    def _train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            beta=float(self.beta),
            beta_warmup=float(self.beta_warmup),
            cond_fraction=float(self.cond_fraction),
            ema_decay=float(self.ema_decay),
            max_time=self.max_time,
            verbose=bool(self.verbose),
        )

    def _fit_private(self, Z, rng, budget) -> dict:
        """DP-SGD training (the encoder state is already private, see ``fit``).

        Data-dependent steps of the ordinary fit and what DP mode does instead: the output
        biases (``prior_bias``: means, category frequencies and missing rates of the rows)
        come from the released encoder state (:func:`public_prior_bias`); encoder, decoder,
        conditional prior and log-scales are all trained by DP-SGD; the per-row condition
        masks are drawn inside each private step; the decoder's weight average is
        post-processing. There is no BatchNorm or other cross-row layer to replace.
        """
        report = self._train(Z, rng, self._dpsgd_settings(budget, len(Z)))
        if report is None:  # only constant / id columns: nothing was trained
            report = untrained_privacy_report()
        return report

    def _fit(self, Z, rng):
        self._train(Z, rng, None)

    def _train(self, Z, rng, privacy) -> dict | None:
        """Build and train the networks (DP-SGD with ``privacy`` settings); the privacy
        report of a DP run."""
        self._start_training(Layout.from_spans(self.encoder_.spans, Z.shape[1]))
        if Z.shape[1] == 0:  # only constant / id columns: nothing to learn
            return None
        init = torch_generator(rng)
        encoder = build_module(self._build_encoder, init).to(self.device_)
        decoder = build_module(self._build_decoder, init)
        if privacy is None:
            decoder.set_output_bias(prior_bias(Z, self.layout_))
        else:  # from the released encoder state
            decoder.set_output_bias(public_prior_bias(self.encoder_, self.layout_))
        decoder.to(self.device_)
        if isinstance(Z, np.memmap):  # fit(path): minibatches read off disk
            X = ArrayRows(Z, self.device_)
        else:
            X = torch.as_tensor(Z, dtype=torch.float32, device=self.device_)
        gen = torch_generator(rng, self.device_)
        log, self.decoder_, report = train(
            encoder, decoder, X, self.layout_, self._train_config(), gen, privacy
        )
        self._record_training(log, loss_history_=log.losses)
        return report

    # -- sample -----------------------------------------------------------------------------
    def _condition_rows(self, n: int, conditions: Conditions | None):
        """Encoded rows holding the condition values and the ``(n, n_cond)`` include mask."""
        layout = self.layout_
        fixed = np.zeros((n, layout.dim), dtype="float32")
        include = np.zeros((n, layout.n_cond), dtype=bool)
        if conditions is None:
            return fixed, include
        for col in conditions.columns:
            j = layout.cond_columns.index(col)
            values = np.asarray(conditions.encoded[col], dtype="float64")
            rows = np.flatnonzero(~np.isnan(values))  # NaN: a free cell of that row
            include[rows, j] = True
            (a, b) = layout.cond_values[j]
            if (a, b) in layout.blocks:  # a softmax block: the category code
                fixed[rows, a + values[rows].astype(int)] = 1.0
            else:
                fixed[rows, a] = values[rows]
            # the missingness slot (if any) stays 0: a conditioned cell is observed
        return fixed, include

    def _sample(self, n, conditions: Conditions | None, rng):
        layout = self.layout_
        if layout.dim == 0:
            return np.zeros((n, 0))
        device = self._runtime_device()
        gen = torch_generator(rng, device)
        builder = ConditionBuilder(layout, device)
        fixed, include = self._condition_rows(n, conditions)
        parts = []
        for a in chunks(n, _SAMPLE_CHUNK):  # advances a sample() bar
            fx = torch.from_numpy(fixed[a : a + _SAMPLE_CHUNK]).to(device)
            inc = torch.from_numpy(include[a : a + _SAMPLE_CHUNK]).to(device)
            with torch.no_grad():
                cond = builder.vector(fx, inc)
                shared = conditions is None  # every condition vector is 0
                z = self.decoder_.sample_latent(cond, gen, shared=shared)
                out, log_scale = self.decoder_(z, cond, shared=shared)
                rows = draw_rows(out, log_scale, layout, gen)
                keep = builder.free_slots(inc)
                rows = rows * keep + fx * (1.0 - keep)
            parts.append(rows.cpu().numpy().astype("float64"))
        Z = np.concatenate(parts, axis=0)
        if conditions is not None:  # columns that must come out observed (imputation)
            for col in conditions.present:
                for s in self.encoder_.column_spans(col):
                    if s.role == "missing":
                        Z[:, s.start] = 0.0
        return Z

    # -- persistence ------------------------------------------------------------------------
    def _get_state(self):
        state = {"dim": self.layout_.dim, **self._training_state()}
        arrays = {} if self.decoder_ is None else weight_arrays(self.decoder_)
        return state, arrays

    def _set_state(self, state, arrays):
        self.layout_ = Layout.from_spans(self.encoder_.spans, int(state["dim"]))
        self._restore_training(state)
        self.decoder_ = None
        if self.layout_.dim:  # weights come from the file
            self.decoder_ = load_weights(build_module(self._build_decoder), arrays)

    @classmethod
    def _test_params(cls):
        return {"epochs": 10, "batch_size": 100, "hidden": 32, "latent_dim": 8, "n_layers": 1}
