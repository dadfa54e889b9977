"""Reading customer tables: load any source, recognise what each column is, and validate it.

:func:`load` returns a :class:`Table`: the raw rows (values untouched) plus the role of every
column. :func:`validate` reports every problem with the chosen features at once. The parts live
in :mod:`~custseg.read.table`, :mod:`~custseg.read.files`, :mod:`~custseg.read.sql`,
:mod:`~custseg.read.roles`, :mod:`~custseg.read.numeric`, :mod:`~custseg.read.validation` and
:mod:`~custseg.read.loader`.
"""

from custseg.read.dates import (
    DateOrder,
    add_tenure,
    date_order,
    parse_dates,
    tenure_as_of,
    tenure_name,
)
from custseg.read.files import (
    SAMPLE_BYTES,
    release_arrow_memory,
    sniff_delimiter,
    sniff_encoding,
    text_sample,
)
from custseg.read.loader import load
from custseg.read.numeric import Numbers, numeric_view, parse_numbers, to_numbers
from custseg.read.roles import (
    auto_features,
    recognise_roles,
    resolve_columns,
    role_from_name,
    set_roles,
    unknown_column,
)
from custseg.read.table import (
    NUMERIC_ROLES,
    ROLE_ALIASES,
    ROLES,
    SETTABLE_ROLES,
    Table,
    describe_roles,
    free_column_name,
    normalise_name,
)
from custseg.read.validation import (
    check_columns,
    examples,
    has_duplicates,
    infinite_values,
    non_numeric_cells,
    validate,
)

__all__ = [
    "DateOrder",
    "SETTABLE_ROLES",
    "add_tenure",
    "date_order",
    "parse_dates",
    "set_roles",
    "tenure_as_of",
    "tenure_name",
    "NUMERIC_ROLES",
    "Numbers",
    "ROLES",
    "ROLE_ALIASES",
    "SAMPLE_BYTES",
    "Table",
    "auto_features",
    "check_columns",
    "describe_roles",
    "examples",
    "free_column_name",
    "has_duplicates",
    "infinite_values",
    "load",
    "non_numeric_cells",
    "normalise_name",
    "numeric_view",
    "parse_numbers",
    "recognise_roles",
    "release_arrow_memory",
    "resolve_columns",
    "role_from_name",
    "sniff_delimiter",
    "sniff_encoding",
    "text_sample",
    "to_numbers",
    "unknown_column",
    "validate",
]
