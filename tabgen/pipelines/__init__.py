"""Pipelines built on the synthesizers: rebalancing, imputation and anonymized export."""

from tabgen.pipelines._strategy import target_counts
from tabgen.pipelines.anonymization import Anonymizer
from tabgen.pipelines.imputation import SyntheticImputer
from tabgen.pipelines.oversampling import SyntheticOverSampler

__all__ = ["Anonymizer", "SyntheticImputer", "SyntheticOverSampler", "target_counts"]
