"""The ecosystem's own conformance suites: scikit-learn's estimator checks for every tabgen
estimator, imbalanced-learn's sampler checks for the over-sampler.

A check that does not apply to an estimator is listed in ``expected_failed_checks`` with a
one-line reason (scikit-learn then marks it xfail); none is skipped silently.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from tabgen.pipelines.anonymization import Anonymizer
from tabgen.pipelines.imputation import SyntheticImputer
from tabgen.pipelines.oversampling import SyntheticOverSampler
from tabgen.synthesizers.copula import GaussianCopulaSynthesizer


def _copula():
    return GaussianCopulaSynthesizer(**GaussianCopulaSynthesizer._test_params(), random_state=0)


def _neural():
    from tabgen.synthesizers.vae import VAESynthesizer

    params = {**VAESynthesizer._test_params(), "epochs": 2}
    return VAESynthesizer(**params, device="cpu", random_state=0)


def _gan():
    """The GAN at its smallest: one epoch, tiny networks, one-row critic packs (the checks
    fit on 10-30 rows), a one-epoch row discriminator for the candidate selection."""
    from tabgen.synthesizers.gan import GANSynthesizer

    return GANSynthesizer(
        epochs=1,
        batch_size=10,
        pac=1,
        embedding_dim=4,
        generator_dim=(8,),
        critic_dim=(8,),
        selection_draws=2,
        device="cpu",
        random_state=0,
    )


def _diffusion():
    """The diffusion model at its smallest: one epoch, a tiny denoiser, two sampler steps."""
    from tabgen.synthesizers.diffusion import DiffusionSynthesizer

    return DiffusionSynthesizer(
        epochs=1, batch_size=16, hidden=8, n_layers=1, n_steps=2, device="cpu", random_state=0
    )


ESTIMATORS = [
    _copula(),
    SyntheticImputer(synthesizer=_copula(), n_draws=2, random_state=0),
    SyntheticImputer(random_state=0),  # the default: per-column predictors
    SyntheticOverSampler(synthesizer=_copula(), selection=None, min_class_rows=1, random_state=0),
    Anonymizer(synthesizer=_copula(), random_state=0),
]

#: The Anonymizer refuses tables under 50 rows (its privacy holdout needs them, see
#: tabgen.pipelines.anonymization.checks.MIN_ROWS); these checks fit it on 10-30 rows.
_TOO_FEW_ROWS = "fits on fewer than the 50 rows the Anonymizer's privacy holdout needs"

#: Checks that do not apply, per estimator class, each with its reason.
EXPECTED_FAILED = {
    "Anonymizer": {
        name: _TOO_FEW_ROWS
        for name in (
            "check_fit_score_takes_y",
            "check_estimators_overwrite_params",
            "check_dont_overwrite_parameters",
            "check_estimators_fit_returns_self",
            "check_readonly_memmap_input",
            "check_n_features_in_after_fitting",
            "check_estimators_dtypes",
            "check_pipeline_consistency",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_fit2d_1feature",
            "check_dict_unchanged",
            "check_fit2d_predict1d",
        )
    },
}


def _expected_failed(estimator) -> dict:
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_sklearn_checks(estimator, check):
    check(estimator)


def test_anonymizer_passes_the_fit_checks_on_enough_rows():
    """What the row-count expected failures skip, checked on 60 rows: fit returns self,
    does not touch its parameters, sets n_features_in_ / feature_names_in_."""
    import numpy as np
    import pandas as pd
    from sklearn.base import clone

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["u", "v"], 60)})
    est = Anonymizer(synthesizer=_copula(), random_state=0)
    before = clone(est).get_params()
    assert est.fit(X) is est
    assert est.n_features_in_ == 2
    assert list(est.feature_names_in_) == ["a", "b"]
    assert {k: repr(v) for k, v in est.get_params().items()} == {
        k: repr(v) for k, v in before.items()
    }
    with pytest.raises(ValueError, match="n_samples=10"):
        clone(est).fit(X.head(10))


@pytest.mark.parametrize(
    ("estimator", "call"),
    [
        (_copula(), lambda e: e.sample(3)),
        (_gan(), lambda e: e.sample(3)),
        (SyntheticImputer(synthesizer=_copula()), lambda e: e.transform([[1.0]])),
        (Anonymizer(synthesizer=_copula()), lambda e: e.sample(3)),
        (Anonymizer(synthesizer=_copula()), lambda e: e.safeguards()),
    ],
    ids=["copula", "gan", "imputer", "anonymizer-sample", "anonymizer-safeguards"],
)
def test_unfitted_estimators_raise_not_fitted_error(estimator, call):
    """scikit-learn's NotFittedError (what ``check_is_fitted`` users catch) before fit."""
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        call(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_tags_tell_the_truth(estimator):
    tags = get_tags(estimator)
    assert tags.input_tags.allow_nan
    assert tags.input_tags.categorical
    assert tags.input_tags.string
    assert not tags.input_tags.sparse
    assert not tags.non_deterministic  # copula-based and seeded: reproducible


def test_tags_of_neural_models_and_samplers():
    assert get_tags(_neural()).non_deterministic is False  # seeded, on the CPU
    from tabgen.synthesizers.vae import VAESynthesizer

    assert get_tags(VAESynthesizer(device="cuda")).non_deterministic is True
    assert get_tags(SyntheticImputer()).transformer_tags is not None
    assert get_tags(SyntheticOverSampler()).estimator_type == "sampler"
    assert get_tags(SyntheticOverSampler()).target_tags.required


# Every neural model runs the whole check set, each at its smallest settings (one or two
# epochs, tiny networks): the checks test the contract, not the quality.
@parametrize_with_checks([_neural(), _gan(), _diffusion()])
def test_sklearn_checks_neural(estimator, check):
    check(estimator)


try:
    from imblearn.utils.estimator_checks import parametrize_with_checks as imblearn_checks
except ImportError:  # optional (the dev extra installs it)
    imblearn_checks = None

if imblearn_checks is not None:

    @imblearn_checks(
        [SyntheticOverSampler(synthesizer=_copula(), selection=None, random_state=0)],
        expected_failed_checks=lambda est: {
            "check_samplers_pandas_sparse": "sparse columns are refused: tabgen models dense "
            "tables (a clear TypeError says so)",
            "check_samplers_multiclass_ova": "one-hot (label-indicator) y is refused: pass "
            "class labels",
        },
    )
    def test_imblearn_sampler_checks(estimator, check):
        check(estimator)

else:

    def test_imblearn_sampler_checks():
        pytest.skip("imbalanced-learn is not installed (it is in the dev extra)")


def test_pipelines_import_without_imblearn():
    """imbalanced-learn is optional: the pipelines import and the over-sampler works and
    reports sampler tags without it."""
    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "imblearn" or name.startswith("imblearn."):
                    raise ImportError(f"blocked {name}")

        sys.meta_path.insert(0, Block())
        import numpy as np
        import tabgen.pipelines
        from sklearn.utils import get_tags
        from tabgen.pipelines.oversampling import SyntheticOverSampler
        from tabgen.synthesizers.copula import GaussianCopulaSynthesizer

        s = SyntheticOverSampler(synthesizer=GaussianCopulaSynthesizer(), selection=None,
                                 random_state=0)
        tags = get_tags(s)
        assert tags.estimator_type == "sampler" and tags.input_tags.allow_nan
        X = np.random.default_rng(0).normal(size=(40, 2))
        y = np.r_[np.zeros(30), np.ones(10)]
        Xr, yr = s.fit_resample(X, y)
        assert (yr == 1).sum() == 30, yr
        assert "imblearn" not in sys.modules
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
