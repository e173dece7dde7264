"""Per-column reversible encoders and the :class:`TableEncoder` that assembles them."""

from tabgen.encoders._cdf import PiecewiseCDF
from tabgen.encoders.base import ColumnEncoder, MissingIndicator, Span
from tabgen.encoders.categorical import OneHotEncoder, OrdinalEncoder
from tabgen.encoders.mixed import AtomMixtureEncoder
from tabgen.encoders.mode_specific import ModeSpecificEncoder
from tabgen.encoders.numerical import MinMaxEncoder, QuantileNormalEncoder, StandardEncoder
from tabgen.encoders.special import ConstantEncoder, DatetimeEncoder, IdEncoder
from tabgen.encoders.table import ENCODERS, TableEncoder

__all__ = [
    "ENCODERS",
    "AtomMixtureEncoder",
    "ColumnEncoder",
    "ConstantEncoder",
    "DatetimeEncoder",
    "IdEncoder",
    "MinMaxEncoder",
    "MissingIndicator",
    "ModeSpecificEncoder",
    "OneHotEncoder",
    "OrdinalEncoder",
    "PiecewiseCDF",
    "QuantileNormalEncoder",
    "Span",
    "StandardEncoder",
    "TableEncoder",
]
