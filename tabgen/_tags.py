"""scikit-learn estimator tags shared by tabgen's estimators.

Every tabgen estimator takes a table: missing cells (NaN/None) in any column, categorical
and string columns, numbers, booleans and dates. Sparse matrices are refused with a clear
``TypeError`` (:func:`tabgen.schema.check_frame`).
"""

from __future__ import annotations


def table_input_tags(input_tags):
    """Set the input tags of a tabgen estimator on ``input_tags`` (in place) and return it."""
    input_tags.allow_nan = True
    input_tags.categorical = True
    input_tags.string = True
    input_tags.sparse = False
    input_tags.two_d_array = True
    if hasattr(input_tags, "dataframe"):  # imbalanced-learn's InputTags
        input_tags.dataframe = True
    return input_tags
