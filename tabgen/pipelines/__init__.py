"""Pipelines built on the synthesizers: rebalancing and imputation."""

from tabgen.pipelines._strategy import target_counts
from tabgen.pipelines.imputation import SyntheticImputer
from tabgen.pipelines.oversampling import SyntheticOverSampler

__all__ = ["SyntheticImputer", "SyntheticOverSampler", "target_counts"]
