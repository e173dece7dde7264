"""Small real datasets shipped with tabgen (for the demo, examples and tests)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_adult"]

ADULT_CATEGORICAL = (
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
    "income",
)


def load_adult(split: str = "train") -> pd.DataFrame:
    """The UCI Adult (Census Income) table.

    Source: Becker & Kohavi, UCI Machine Learning Repository, CC BY 4.0. 15 columns: six
    integer (``age``, ``fnlwgt``, ``education_num``, ``capital_gain``, ``capital_loss``,
    ``hours_per_week``) and nine categorical, the target being ``income`` (``<=50K`` /
    ``>50K``). ``workclass``, ``occupation`` and ``native_country`` have missing cells.

    Parameters
    ----------
    split : {"train", "test", "all"}
        The original split: 32,561 train rows, 16,281 test rows, or both.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> from tabgen.datasets import load_adult
    >>> load_adult().shape
    (32561, 15)
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if split == "all":
        return pd.concat([load_adult("train"), load_adult("test")], ignore_index=True)
    with resources.files(__name__).joinpath(f"adult_{split}.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")
