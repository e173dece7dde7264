"""tabgen: tabular data augmentation and anonymization.

Generative models for tables (Gaussian copula, and GAN, VAE and diffusion models) behind one
scikit-learn-style ``fit`` / ``sample`` API, with the pipelines built on them.

Examples
--------
>>> import tabgen
>>> df = tabgen.datasets.load_adult().head(2000)
>>> model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
>>> model.sample(3, random_state=0).shape
(3, 15)
"""

from tabgen import datasets, pipelines
from tabgen._version import __version__
from tabgen.io import read_table, sample_to_file, write_table
from tabgen.metrics import Report, evaluate
from tabgen.persistence import ModelFileError, load
from tabgen.schema import ColumnSpec, Schema
from tabgen.synthesizers import (
    SYNTHESIZERS,
    BaseSynthesizer,
    DiffusionSynthesizer,
    GANSynthesizer,
    GaussianCopulaSynthesizer,
    VAESynthesizer,
    get_synthesizer,
)

__all__ = [
    "SYNTHESIZERS",
    "BaseSynthesizer",
    "ColumnSpec",
    "DiffusionSynthesizer",
    "GANSynthesizer",
    "GaussianCopulaSynthesizer",
    "ModelFileError",
    "Report",
    "Schema",
    "VAESynthesizer",
    "__version__",
    "datasets",
    "evaluate",
    "get_synthesizer",
    "load",
    "pipelines",
    "read_table",
    "sample_to_file",
    "write_table",
]
