"""RFM: recency, frequency and monetary value per customer, computed from raw transactions.

RFM is a prepare step in front of the ordinary pipeline. ``rfm_features`` turns an order history
(one row per transaction or order line) into one row per customer; ``segment_rfm`` then runs
:func:`custseg.segment` on that table, names the segments in RFM language and adds the classic
quintile RFM scores for comparison.

The rooms: ``source`` (reading transactions), ``columns`` (which column is what), ``values``
(codes, amounts, dates), ``options`` (``RFMOptions``), ``features``, ``scores``, ``value``
(customer lifetime value, with the extra ``custseg[clv]``) and ``segment``.

The rules for messy data (all counted in the report that ``rfm_features`` returns):

- A row is a *return* when its invoice number starts with ``C`` (a cancellation), or its quantity
  or amount is negative. ``returns="net"`` (default) subtracts its amount, as ``-|amount|``, from
  the customer's monetary value; a return is not a purchase, so it never counts towards frequency,
  recency or tenure. ``returns="exclude"`` drops return rows altogether.
- Rows without a customer id (empty or blank), without a date, or without an amount are dropped.
- Rows dated after ``as_of`` are ignored.
- Rows with an amount of 0 are purchases (free items, promotions): they count as orders.
- Customers with only returns (no purchase) are dropped. Customers whose returns exceed their
  purchases get a monetary value of 0.
- Without an invoice column, frequency counts distinct purchase days. Rows with an empty invoice
  number count as one order per customer and day.
- Dates: ``YYYYMMDD`` (text or integer), ISO ``YYYY-MM-DD`` or ``YYYY/MM/DD``, ``mm/dd/yyyy`` or,
  with ``dayfirst=True``, ``dd/mm/yyyy`` (``/``, ``.`` or ``-``); a time of day is ignored.
"""

from custseg.read import to_numbers
from custseg.rfm.columns import COLUMN_PATTERNS, ROLES_ORDER, TransactionColumns, recognise_columns
from custseg.rfm.features import rfm_features
from custseg.rfm.options import (
    DEFAULT_FEATURES,
    FEATURES,
    LOG_FEATURES,
    RETURNS,
    RFMOptions,
)
from custseg.rfm.scores import RF_GRID, quintile_scores, rfm_rules_path, rfm_scores
from custseg.rfm.segment import FEATURE_ROLES, RFM_FILENAME, RFMSegmentation, segment_rfm
from custseg.rfm.source import read_transactions
from custseg.rfm.value import VALUE_COLUMNS, customer_value
from custseg.rfm.values import factorize, parse_dates

__all__ = [
    "COLUMN_PATTERNS",
    "DEFAULT_FEATURES",
    "FEATURES",
    "FEATURE_ROLES",
    "LOG_FEATURES",
    "RETURNS",
    "RFM_FILENAME",
    "RF_GRID",
    "ROLES_ORDER",
    "RFMOptions",
    "RFMSegmentation",
    "TransactionColumns",
    "VALUE_COLUMNS",
    "customer_value",
    "factorize",
    "parse_dates",
    "quintile_scores",
    "read_transactions",
    "recognise_columns",
    "rfm_features",
    "rfm_rules_path",
    "rfm_scores",
    "segment_rfm",
    "to_numbers",
]
