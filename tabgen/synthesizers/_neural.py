"""What the neural synthesizers (diffusion, GAN, VAE) share around their networks.

:class:`NeuralSynthesizer` is a mixin, placed before
:class:`~tabgen.synthesizers.base.BaseSynthesizer` in a model's bases. It holds the blocks
that were written once per model: the start and the record of a training run, the default
number of epochs, the DP-SGD settings of a private fit, the lazily resolved sampling device
and the training state a model file keeps. A model names the attribute of the network it
samples with (``_sampling_network``) and, when ``epochs=None`` is allowed, the defaults that
resolve it (``_epoch_defaults``).
"""

from __future__ import annotations

import torch

from tabgen.encoders import TableEncoder
from tabgen.nn import epochs_for_steps, resolve_device
from tabgen.synthesizers._losses import LossHistory


def untrained_privacy_report(**extra) -> dict:
    """The privacy report of a DP fit that trained nothing (only constant or id columns):
    no DP-SGD step spent any budget."""
    return {"epsilon": 0.0, "delta": 0.0, "epsilon_sgd": 0.0, "steps": 0, **extra}


class NeuralSynthesizer(LossHistory):
    """Mixin of the neural synthesizers (see the module docstring)."""

    #: Share of ``epsilon`` for the domain and marginal histograms (DP mode).
    _dp_fraction = 0.1
    #: Attribute holding the network that samples (``None`` when nothing was learnt).
    _sampling_network = ""

    def _make_encoder(self) -> TableEncoder:
        """Quantile-normal numbers and one-hot categories (the GAN overrides it)."""
        return TableEncoder(numerical="quantile", categorical="onehot")

    def _dequantize_rng(self, rng):
        # the encoders draw: tied values spread over their quantile interval (quantile
        # numbers), a number's mode from the mixture posterior (mode-specific numbers)
        return rng

    # -- training ---------------------------------------------------------------------------
    def _epoch_defaults(self) -> tuple[int, tuple[int, int], int]:
        """For ``epochs=None``: the optimiser steps to aim at, the ``(lowest, highest)``
        number of epochs, and the epochs of a DP fit."""
        raise NotImplementedError(f"{type(self).__name__} needs an explicit epochs")

    def _n_epochs(self, n_rows: int) -> int:
        """``epochs``, or the default for ``n_rows`` training rows: the DP default under
        ``epsilon``, else enough epochs for the aimed-at steps within the bounds (see
        :func:`~tabgen.nn.epochs_for_steps`)."""
        if self.epochs is not None:
            return int(self.epochs)
        steps, bounds, dp_epochs = self._epoch_defaults()
        if self.epsilon is not None:
            return dp_epochs
        return epochs_for_steps(n_rows, self.batch_size, steps, bounds)

    def _dpsgd_settings(self, budget: dict, n_rows: int):
        """The DP-SGD settings of a private fit on ``n_rows`` rows, with the model's part of
        the ``budget`` (see :func:`tabgen.privacy._fit.split_budget`)."""
        from tabgen.privacy.dpsgd import DPSGDSettings

        return DPSGDSettings(
            budget["epsilon_model"],
            budget["delta_model"],
            float(self.max_grad_norm),
            int(self.batch_size),
            self._n_epochs(n_rows),
        )

    def _start_training(self, layout) -> None:
        """What a fit sets first: the device (strictly: an absent device is an error), the
        layout, and no network, epoch or loss of an earlier fit."""
        self.device_ = resolve_device(self.device)
        self.layout_ = layout
        self.n_epochs_ = 0
        for _, attr in self._loss_histories:
            setattr(self, attr, [])
        setattr(self, self._sampling_network, None)

    def _record_training(self, log, **histories) -> None:
        """Keep the epochs a run made (``log``, a :class:`~tabgen.nn.TrainingLog`) and each
        ``attribute=losses`` history as a list of floats."""
        self.n_epochs_ = log.n_epochs
        for attr, values in histories.items():
            setattr(self, attr, [float(v) for v in values])

    # -- sampling ---------------------------------------------------------------------------
    def _runtime_device(self) -> torch.device:
        """The device to sample on: the fit's, or for a loaded model (``device_`` is
        ``None``) the model's ``device`` where present, else the CPU, with the network moved
        there on first use."""
        if self.device_ is None:
            self.device_ = resolve_device(self.device, strict=False)
            network = getattr(self, self._sampling_network)
            if network is not None:
                network.to(self.device_)
        return self.device_

    # -- persistence ------------------------------------------------------------------------
    def _training_state(self) -> dict:
        """The epochs run and the loss histories, for a model file."""
        state = {
            attr.rstrip("_"): [float(v) for v in getattr(self, attr, [])]
            for _, attr in self._loss_histories
        }
        state["n_epochs"] = int(self.n_epochs_)
        return state

    def _restore_training(self, state: dict) -> None:
        """Inverse of :meth:`_training_state`; the device is resolved on first use (a model
        fitted on a GPU samples on a CPU-only machine)."""
        self.n_epochs_ = int(state["n_epochs"])
        for _, attr in self._loss_histories:
            setattr(self, attr, [float(v) for v in state.get(attr.rstrip("_"), [])])
        self.device_ = None
