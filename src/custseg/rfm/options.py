"""``RFMOptions``: what an RFM run is told about the transactions, validated once.

The rest of a run (k, scaling, engine, ...) is the ordinary :class:`SegmentOptions`; RFM only
sets its own defaults there (the RFM features, which of them are logged, the RFM naming rules).
Errors name the parameter (``as_of``), in the style of :mod:`custseg.pipeline.options`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date as Date
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from custseg.exceptions import DataError, OptionError
from custseg.pipeline.options import SegmentOptions, optional_text
from custseg.read import normalise_name
from custseg.rfm.columns import ROLES_ORDER
from custseg.rfm.scores import rfm_rules_path
from custseg.rfm.values import day_number, parse_dates, to_date

RETURNS = ("net", "exclude")
FEATURES = ("recency", "frequency", "monetary", "tenure", "avg_order_value")
DEFAULT_FEATURES = ("recency", "frequency", "monetary")
LOG_FEATURES = ("frequency", "monetary", "avg_order_value")  # right-skewed by nature
_FEATURE_ALIASES = {"aov": "avg_order_value", "average_order_value": "avg_order_value"}


# ---------------------------------------------------------------- constraints
# As in custseg.pipeline.options: a constraint normalises a value or raises OptionError.


def _shown(value: Any) -> str:
    """``repr(value)`` safe inside an OptionError message (whose ``{option}`` is filled in)."""
    return repr(value).replace("{", "{{").replace("}", "}}")


def returns_rule(name: str, value: Any) -> str:
    if value not in RETURNS:
        raise OptionError(name, f"{{option}} must be net or exclude, not {_shown(value)}")
    return value


def sheet_name(name: str, value: Any) -> str | int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise OptionError(name, f"{{option}} must be a sheet name or position, not {_shown(value)}")


def true_or_false(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise OptionError(name, f"{{option}} must be True or False, not {_shown(value)}")
    return bool(value)


def as_of_day(name: str, value: Any, *, dayfirst: bool) -> int | None:
    """The day number of ``value``: None, a date, or text read as the file's dates are."""
    if value is None:
        return None
    if isinstance(value, Date):  # datetime and pandas.Timestamp too: their day
        return day_number(value)
    day = _text_day(str(value), dayfirst)
    if day is None:
        # "13/01/2024" without dayfirst: show the date it would be the other way round.
        other = _text_day(str(value), not dayfirst)
        hint = f"; write it as {to_date(other).isoformat()}" if other is not None else ""
        raise OptionError(
            name, f"{{option}} must be a date such as 1998-07-01, not {_shown(value)}{hint}"
        )
    return day


def _text_day(text: str, dayfirst: bool) -> int | None:
    try:
        day = parse_dates(pa.array([text]), dayfirst=dayfirst)[0]
    except DataError:
        return None
    return None if np.isnan(day) else int(day)


def check_names(names: Iterable[str], known: Iterable[str], what: str) -> None:
    """An unknown option name is an OptionError, with the closest known name as a hint."""
    known = sorted(known)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise OptionError(name, f"{{option}} is not an option of {what}{hint}")


# ---------------------------------------------------------------- the options


@dataclass(frozen=True)
class RFMOptions:
    """What an RFM run is told about the transactions.

    Parameters
    ----------
    customer, date, amount, quantity, price, invoice : str, optional
        Column names (or 1-based positions for headerless files). Recognised by name when not
        given (e.g. ``CustomerID``, ``InvoiceDate``, ``Quantity``, ``UnitPrice``, ``InvoiceNo``).
        The amount spent is ``amount``, or ``quantity x price`` when there is no amount column.
    as_of : date or str, optional
        The day recency and tenure are measured to; later rows are ignored. Default: the day
        after the last transaction. Text is read like the file's dates (see ``dayfirst``) and
        kept as written.
    dayfirst : bool
        Read ``01/02/1997`` as 1 February (dd/mm/yyyy) rather than 2 January.
    returns : {"net", "exclude"}
        Returns and cancellations netted against monetary value (default) or dropped.
    sheet : str or int, optional
        The Excel sheet holding the transactions (name or 0-based position); the first by default.
    """

    customer: str | None = None
    date: str | None = None
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    invoice: str | None = None
    as_of: str | Date | None = None
    dayfirst: bool = False
    returns: str = "net"
    sheet: str | int | None = None

    _parameter_constraints: ClassVar[dict[str, Callable[[str, Any], Any]]] = {
        **dict.fromkeys(ROLES_ORDER, optional_text),
        "dayfirst": true_or_false,
        "returns": returns_rule,
        "sheet": sheet_name,
    }

    def __post_init__(self) -> None:
        for name, check in self._parameter_constraints.items():
            object.__setattr__(self, name, check(name, getattr(self, name)))
        self.as_of_day()  # checked last: how text is read depends on dayfirst

    @classmethod
    def build(cls, options: RFMOptions | None = None, **changes: Any) -> RFMOptions:
        """``options`` (or the defaults) with ``changes``; an unknown name is an OptionError."""
        check_names(changes, (f.name for f in dataclasses.fields(cls)), "RFM features")
        base = options if options is not None else cls()
        return dataclasses.replace(base, **changes) if changes else base

    def replace(self, **changes: Any) -> RFMOptions:
        """A copy with ``changes``, validated like a new object."""
        return self.build(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def as_of_day(self) -> int | None:
        """The day recency is measured to, as days since 1970-01-01 (``None``: the default)."""
        return as_of_day("as_of", self.as_of, dayfirst=self.dayfirst)

    def columns(self) -> dict[str, str | None]:
        """Role -> the column the user named for it (``None`` where it is to be recognised)."""
        return {role: getattr(self, role) for role in ROLES_ORDER}


def split_settings(
    options: SegmentOptions | None, rfm: RFMOptions | None, settings: Mapping[str, Any]
) -> tuple[SegmentOptions, RFMOptions]:
    """Both option objects, each name of ``settings`` going to the one that has that field."""
    rfm_names = {f.name for f in dataclasses.fields(RFMOptions)}
    run_names = {f.name for f in dataclasses.fields(SegmentOptions)}
    check_names(settings, rfm_names | run_names, "an RFM run")
    rfm = RFMOptions.build(rfm, **{k: v for k, v in settings.items() if k in rfm_names})
    run = SegmentOptions.build(options, **{k: v for k, v in settings.items() if k in run_names})
    return run, rfm


def rfm_run_options(options: SegmentOptions) -> SegmentOptions:
    """``options`` with RFM's defaults where they say nothing: the features recency, frequency
    and monetary; the skewed-by-nature ones logged; the RFM naming rules."""
    chosen = choose_features(options.features)
    log = options.log
    if log is None:
        log = [c for c in chosen if c in LOG_FEATURES] or "none"
    return options.replace(features=chosen, log=log, rules=options.rules or rfm_rules_path())


def choose_features(features: Sequence[str] | None) -> list[str]:
    """RFM feature names as given (``"aov"``, ``"Avg order value"``, ...) -> their columns."""
    if features is None:
        return list(DEFAULT_FEATURES)
    chosen, unknown = [], []
    for name in features:
        norm = normalise_name(name).replace(" ", "_")
        norm = _FEATURE_ALIASES.get(norm, norm)
        if norm in FEATURES:
            chosen.append(norm)
        elif norm:
            unknown.append(name)
    if unknown or not chosen:
        listed = ", ".join(map(_shown, unknown)) or "none given"
        raise OptionError(
            "features", f"{{option}}: {listed}; RFM features are {', '.join(FEATURES)}"
        )
    return list(dict.fromkeys(chosen))
