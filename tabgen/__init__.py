"""tabgen: tabular data augmentation and anonymization.

Generative models for tables (Gaussian copula, and GAN, VAE and diffusion models) behind one
scikit-learn-style ``fit`` / ``sample`` API, with the pipelines built on them.

The public names are imported on first use: ``import tabgen`` is cheap, and torch is only
imported when a neural model (GAN, VAE, diffusion) is used.

Examples
--------
>>> import tabgen
>>> df = tabgen.datasets.load_adult().head(2000)
>>> model = tabgen.GaussianCopulaSynthesizer(random_state=0).fit(df)
>>> model.sample(3, random_state=0).shape
(3, 15)
"""

from tabgen._lazy import lazy_exports
from tabgen._version import __version__ as __version__

_EXPORTS = {
    "SYNTHESIZERS": "tabgen.synthesizers.registry",
    "BaseSynthesizer": "tabgen.synthesizers.base",
    "ColumnSpec": "tabgen.schema",
    "DiffusionSynthesizer": "tabgen.synthesizers.diffusion.estimator",
    "GANSynthesizer": "tabgen.synthesizers.gan.estimator",
    "GaussianCopulaSynthesizer": "tabgen.synthesizers.copula",
    "ModelFileError": "tabgen.persistence",
    "Report": "tabgen.metrics.report",
    "Schema": "tabgen.schema",
    "VAESynthesizer": "tabgen.synthesizers.vae.estimator",
    "datasets": "tabgen.datasets",
    "evaluate": "tabgen.metrics.report",
    "get_synthesizer": "tabgen.synthesizers.registry",
    "load": "tabgen.persistence",
    "pipelines": "tabgen.pipelines",
    "read_table": "tabgen.io",
    "sample_to_file": "tabgen.io",
    "write_table": "tabgen.io",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = sorted([*_EXPORTS, "__version__"])
