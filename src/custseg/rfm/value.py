"""Customer value: expected purchases, chance of being active and lifetime value (``--clv``).

Two standard "buy till you die" models from PyMC-Marketing (the optional extra
``custseg[clv]``), fitted to the RFM table's customers:

- **BG/NBD** (Fader, Hardie & Lee 2005) on each customer's *repeat purchase occasions*
  (``repeat_purchases``: distinct purchase days minus one, whatever the invoices), the time from
  the first to the last purchase day (``tenure - recency``) and the time from the first purchase
  to the as-of date (``tenure``), all in weeks. It gives ``expected_purchases`` over the horizon
  and ``p_alive``, the chance the customer has not quietly stopped buying.
- **Gamma-Gamma** on ``mean_repeat_spend`` (net spend, returns included, less the first purchase
  day's, per repeat occasion), fitted on repeat customers with a positive mean only, as the model
  requires. It gives ``expected_avg_spend``; one-time buyers get the population's mean.

``clv`` is expected spend times expected purchases, month by month over the horizon, each month
discounted at the yearly ``discount_rate``. By default the models are fitted by MAP with flat
priors, which is the maximum-likelihood fit, in seconds; ``clv_method="mcmc"`` samples instead.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from custseg.exceptions import DataError, require
from custseg.rfm.options import RFMOptions

VALUE_COLUMNS = ("expected_purchases", "p_alive", "expected_avg_spend", "clv")
DAYS_PER_MONTH = 365.25 / 12
STEPS = 4  # progress steps: loading, purchases, spend, predictions


def customer_value(
    features: pd.DataFrame,
    options: RFMOptions,
    *,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit BG/NBD and Gamma-Gamma to RFM features and predict each customer's value.

    Parameters
    ----------
    features : DataFrame
        From :func:`custseg.rfm.rfm_features` with ``clv=True`` (it has ``repeat_purchases``
        and ``mean_repeat_spend``).
    options : RFMOptions
        Its ``horizon``, ``discount_rate`` and ``clv_method``.
    seed : int
        Random seed for sampling (``clv_method="mcmc"``).
    progress : callable(step, done, total), optional
        Called as each of the four steps starts (loading, purchases, spend, predictions) and
        when all are done.

    Returns
    -------
    (DataFrame, dict)
        ``expected_purchases``, ``p_alive``, ``expected_avg_spend`` and ``clv``, one row per
        customer in the order of ``features``; and the fitted parameters and method.
    """
    step = _stepper(progress)
    weeks = _weeks(features)
    spend = _spend_data(features)
    fit = _fit_kwargs(options.clv_method, seed)
    step("customer value: loading the models")
    with _quiet_models(sampling=fit["method"] == "mcmc") as (clv, prior):
        step(
            "customer value: fitting purchases"
            + (" (sampling, minutes)" if fit["method"] == "mcmc" else "")
        )
        # MAP: flat priors, so it is the maximum-likelihood fit. Sampling needs proper priors
        # (flat ones let a and b drift off to infinity): PyMC-Marketing's own, weakly informative.
        flat = prior.Prior("HalfFlat")
        config = dict.fromkeys(("r", "alpha", "a", "b"), flat) if fit["method"] == "map" else None
        purchases = clv.BetaGeoModel(model_config=config)
        purchases.fit(data=weeks, **fit)
        step("customer value: fitting spend")
        spending = clv.GammaGammaModel()
        spending.fit(data=spend.loc[spend["monetary_value"] > 0], **fit)
        step("customer value: predicting")
        horizon = options.horizon / 7
        expected = _mean(purchases.expected_purchases(weeks, future_t=horizon))
        alive = _mean(purchases.expected_probability_alive(weeks))
        avg_spend = _mean(spending.expected_customer_spend(spend))
        months = max(1, round(options.horizon / DAYS_PER_MONTH))
        value = clv.customer_lifetime_value(
            purchases,
            weeks.assign(future_spend=avg_spend),
            future_t=months,
            discount_rate=(1 + options.discount_rate) ** (1 / 12) - 1,  # the library's is monthly
            time_unit="W",
        )
    step("customer value: done")
    table = pd.DataFrame(
        {
            "expected_purchases": expected,
            "p_alive": alive,
            "expected_avg_spend": avg_spend,
            "clv": _mean(value),
        },
        index=features.index,
    ).round(6)
    params = {name: _param(purchases, name) for name in ("r", "alpha", "a", "b")}
    params |= {name: _param(spending, name) for name in ("p", "q", "v")}
    report = {
        "method": "MAP" if options.clv_method == "map" else "MCMC sampling",
        "method_note": "flat priors, so MAP is the maximum-likelihood fit"
        if options.clv_method == "map"
        else "PyMC-Marketing's default priors; parameters are posterior means of 2 chains of "
        "500 draws",
        "parameters": params,
        "time_unit": "weeks: r and alpha describe purchases per week; v is in the currency of "
        "the amounts; a, b, p and q have no unit",
        "horizon_days": options.horizon,
        "horizon_months": months,
        "discount_rate": options.discount_rate,
        "repeat_customers_for_spend": int((spend["monetary_value"] > 0).sum()),
        "frequency": "repeat purchase occasions: distinct purchase days minus one",
        "spend": "mean net spend of a repeat purchase day (first purchase day left out)",
    }
    return table, report


def _weeks(features: pd.DataFrame) -> pd.DataFrame:
    """BG/NBD's inputs in weeks: frequency x, recency t_x (first to last purchase) and age T."""
    missing = {"repeat_purchases", "tenure", "recency"} - set(features.columns)
    if missing:
        raise DataError(
            f"Customer value needs the columns {', '.join(sorted(missing))}; compute the "
            "features with rfm_features(..., clv=True)"
        )
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(features)),
            "frequency": features["repeat_purchases"].to_numpy(dtype=float),
            "recency": (features["tenure"] - features["recency"]).to_numpy(dtype=float) / 7,
            "T": features["tenure"].to_numpy(dtype=float) / 7,
        }
    )


def _spend_data(features: pd.DataFrame) -> pd.DataFrame:
    repeats = features["repeat_purchases"].to_numpy(dtype=float)
    mean = features["mean_repeat_spend"].to_numpy(dtype=float)
    known = (repeats > 0) & np.isfinite(mean) & (mean > 0)
    if known.sum() < 2:
        raise DataError(
            f"Customer value needs at least 2 customers who bought again on a later day with a "
            f"positive spend; there are {int(known.sum())}. Use a longer purchase history"
        )
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(features)),
            "frequency": np.where(known, repeats, 0.0),  # others get the population's mean
            "monetary_value": np.where(known, mean, 0.0),
        }
    )


def _fit_kwargs(method: str, seed: int) -> dict[str, Any]:
    if method == "map":
        return {"method": "map", "progressbar": False, "seed": seed}
    return {
        "method": "mcmc",
        "chains": 2,
        "draws": 500,
        "tune": 500,
        "cores": 1,  # the machines are small; parallel chains fight for the same cores
        "random_seed": seed,
        "progressbar": False,
    }


def _mean(values: Any) -> np.ndarray:
    """Average over the posterior draws (a MAP fit has one)."""
    dims = [d for d in ("chain", "draw") if d in values.dims]
    return np.asarray(values.mean(dims).transpose("customer_id").values, dtype=float)


def _param(model: Any, name: str) -> float:
    return round(float(model.fit_result[name].mean()), 6)


def _stepper(progress: Callable[[str, int, int], None] | None) -> Callable[[str], None]:
    done = 0

    def step(name: str) -> None:
        """Say what starts now, after ``done`` steps."""
        nonlocal done
        if progress:
            progress(name, done, STEPS)
        done += 1

    return step


@contextlib.contextmanager
def _quiet_models(sampling: bool = False) -> Iterator[tuple[Any, Any]]:
    """PyMC-Marketing's models and priors (or which extra to install), with its libraries'
    future-change warnings silenced: they are not for the analyst. PyMC's own messages are
    silenced too, except when sampling, where they report progress and convergence problems."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clv = require("pymc_marketing.clv", "clv")
        prior = require("pymc_extras.prior", "clv")
        # After the import: PyMC sets its own logger's level when it is first imported.
        names = (
            ("pytensor", "pymc_marketing") if sampling else ("pymc", "pytensor", "pymc_marketing")
        )
        loggers = [logging.getLogger(name) for name in names]
        levels = [log.level for log in loggers]
        for log in loggers:
            log.setLevel(logging.ERROR)
        try:
            yield clv, prior
        finally:
            for log, level in zip(loggers, levels, strict=True):
                log.setLevel(level)
