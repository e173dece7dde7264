"""The loss history of the neural synthesizers as a table."""

from __future__ import annotations

import pandas as pd


class LossHistory:
    """Adds :meth:`get_loss_values` to a model whose fit records ``loss_history_`` (and,
    for models with several networks, the attributes named in ``_loss_histories``)."""

    #: ``(network, attribute)`` pairs of the recorded mean losses per epoch.
    _loss_histories: tuple = (("loss", "loss_history_"),)

    def get_loss_values(self) -> pd.DataFrame:
        """The mean training loss of each epoch, one column per network.

        Returns
        -------
        pandas.DataFrame
            Column ``epoch`` (1-based) and one column per network (e.g. ``generator`` and
            ``critic`` for the GAN, ``loss`` for the others). Empty after a differentially
            private fit, whose raw losses are not private.
        """
        self._check_fitted()
        columns = {k: list(getattr(self, attr, []) or []) for k, attr in self._loss_histories}
        n = max((len(v) for v in columns.values()), default=0)
        data = {"epoch": list(range(1, n + 1))}
        for k, v in columns.items():
            data[k] = [float(x) for x in v] + [float("nan")] * (n - len(v))
        return pd.DataFrame(data)
