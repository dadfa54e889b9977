"""The Spark ML feature pipeline that mirrors :func:`custseg.features.build_preprocessor`, and its
scikit-learn twin: the same fitted statistics put into the very pipeline the single-machine
engines use, so a model fitted on Spark scores anywhere with ``custseg predict``.

Steps, as in scikit-learn: numeric columns as doubles, median imputation (Spark ``Imputer``),
``log1p`` of the chosen columns, ``VectorAssembler``, the scaler named by ``--scale``
(``StandardScaler``, ``MinMaxScaler``, ``RobustScaler`` or none), then categorical columns filled
with their most frequent value and one-hot encoded (``StringIndexer`` in alphabetical order,
``OneHotEncoder`` without dropping a level), all assembled into one feature vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from custseg.features import FeaturePlan, build_preprocessor

# Internal columns of the frames Spark works on; the prefix keeps them clear of the user's.
PREFIX = "_custseg_"
FEATURES = f"{PREFIX}features"  # the assembled, scaled feature vector
PREDICTION = f"{PREFIX}pred"  # Spark KMeans' cluster of each row
SEGMENT = f"{PREFIX}segment"  # the segment id (KMeans' clusters in stable order; null: left out)


def quoted(name: str) -> str:
    """A column name as Spark SQL reads it, whatever characters it holds."""
    return "`" + name.replace("`", "``") + "`"


def column(name: str):
    from pyspark.sql import functions as F

    return F.col(quoted(name))


def numeric_column(name: str, dtype):
    """The column as double: text that is not a number and NaN become null (never an error)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(dtype, T.NumericType | T.BooleanType):
        value = column(name).cast("double")
    else:  # text: trimmed, and try_cast so ANSI mode never fails the job on 'forty'
        value = F.expr(f"try_cast(trim(CAST({quoted(name)} AS STRING)) AS DOUBLE)")
    return F.when(F.isnan(value), F.lit(None).cast("double")).otherwise(value)


def category_column(name: str, dtype):
    """The column as text, as :func:`custseg.features.feature_frame` makes it."""
    return column(name).cast("string")


@dataclass
class SparkFeatures:
    """Internal column names of the prepared frame, and the fitted Spark pipeline."""

    plan: FeaturePlan
    raw: list[str]  # numeric features as double (nulls kept): profiles use these
    cats: list[str]  # categorical features as text, missing filled with the mode
    modes: list[str] = field(default_factory=list)
    model: object = None  # pyspark.ml.PipelineModel

    @classmethod
    def for_plan(cls, plan: FeaturePlan) -> SparkFeatures:
        return cls(
            plan,
            [f"{PREFIX}raw{i}" for i in range(len(plan.numeric))],
            [f"{PREFIX}cat{j}" for j in range(len(plan.categorical))],
        )

    def prepare(self, frame):
        """Original columns plus the numeric doubles and categorical texts the pipeline reads."""
        from pyspark.sql import functions as F

        types = {f.name: f.dataType for f in frame.schema.fields}
        pairs = zip(self.plan.numeric, self.raw, strict=True)
        extra = [numeric_column(c, types[c]).alias(r) for c, r in pairs]
        for j, (c, name) in enumerate(zip(self.plan.categorical, self.cats, strict=True)):
            text = category_column(c, types[c])
            if self.modes:
                text = F.coalesce(text, F.lit(self.modes[j]))
            extra.append(text.alias(name))
        return frame.select("*", *extra)

    def fit(self, prepared) -> SparkFeatures:
        """Fit imputer, scaler and encoders on the prepared rows (the rows the model uses);
        categorical gaps must already be filled (``learn_modes`` then ``prepare``)."""
        from pyspark.ml import Pipeline
        from pyspark.ml.feature import (
            Imputer,
            MinMaxScaler,
            OneHotEncoder,
            RobustScaler,
            SQLTransformer,
            StandardScaler,
            StringIndexer,
            VectorAssembler,
        )

        plan = self.plan
        imputed = [f"{PREFIX}imp{i}" for i in range(len(plan.numeric))]
        stages: list = [Imputer(inputCols=self.raw, outputCols=imputed, strategy="median")]
        numeric = list(imputed)
        if plan.log:
            logs = []
            for i, c in enumerate(plan.numeric):
                if c in plan.log:
                    numeric[i] = f"{PREFIX}log{i}"
                    logs.append(f"LOG1P(GREATEST({imputed[i]}, 0D)) AS {numeric[i]}")
            stages.append(SQLTransformer(statement=f"SELECT *, {', '.join(logs)} FROM __THIS__"))
        stages.append(VectorAssembler(inputCols=numeric, outputCol=f"{PREFIX}num"))
        scaled = f"{PREFIX}scaled"
        scaler = {
            "standard": lambda: StandardScaler(withMean=True, withStd=True),
            "minmax": lambda: MinMaxScaler(min=0.0, max=1.0),
            "robust": lambda: RobustScaler(lower=0.25, upper=0.75, withCentering=True),
            "none": None,
        }[plan.scale]
        if scaler is None:
            scaled = f"{PREFIX}num"
        else:
            stages.append(scaler().setInputCol(f"{PREFIX}num").setOutputCol(scaled))
        parts = [scaled]
        if self.cats:
            index = [f"{PREFIX}idx{j}" for j in range(len(self.cats))]
            vecs = [f"{PREFIX}vec{j}" for j in range(len(self.cats))]
            stages.append(
                StringIndexer(inputCols=self.cats, outputCols=index, stringOrderType="alphabetAsc")
            )
            stages.append(OneHotEncoder(inputCols=index, outputCols=vecs, dropLast=False))
            parts += vecs
        stages.append(VectorAssembler(inputCols=parts, outputCol=FEATURES))
        self.model = Pipeline(stages=stages).fit(prepared)
        return self

    def learn_modes(self, prepared) -> SparkFeatures:
        """Most frequent value of each categorical feature; ``prepare`` then fills with them."""
        self.modes = [_mode(prepared, c) for c in self.cats]
        return self

    def transform(self, prepared):
        """The prepared rows plus the feature vector column ``FEATURES``."""
        return self.model.transform(prepared)

    # ------------------------------------------------------------ the scikit-learn twin
    def statistics(self) -> dict:
        """What the fitted stages learned, as small numpy arrays (comes to the driver)."""
        stages = self.model.stages
        medians = stages[0].surrogateDF.collect()[0]
        stats: dict = {"medians": np.array([float(medians[c]) for c in self.raw])}
        for stage in stages:
            name = type(stage).__name__
            if name == "StandardScalerModel":
                stats["mean"] = stage.mean.toArray()
                stats["std"] = stage.std.toArray()
            elif name == "MinMaxScalerModel":
                stats["min"] = stage.originalMin.toArray()
                stats["max"] = stage.originalMax.toArray()
            elif name == "RobustScalerModel":
                stats["median"] = stage.median.toArray()
                stats["range"] = stage.range.toArray()
            elif name == "StringIndexerModel":
                stats["categories"] = [list(labels) for labels in stage.labelsArray]
        return stats

    def to_sklearn(self) -> ColumnTransformer:
        """The single-machine preprocessor with this pipeline's statistics: it transforms rows
        exactly as Spark does, so the model file and ``custseg predict`` work unchanged."""
        return sklearn_twin(self.plan, self.statistics(), self.modes)


def _mode(frame, name: str) -> str:
    """Most frequent non-missing value; ties go to the smallest, as scikit-learn's imputer."""
    from pyspark.sql import functions as F

    row = (
        frame.where(column(name).isNotNull())
        .groupBy(column(name))
        .count()
        .orderBy(F.desc("count"), column(name))
        .first()
    )
    return "missing" if row is None else str(row[0])


def sklearn_twin(plan: FeaturePlan, stats: dict, modes: list[str]) -> ColumnTransformer:
    """``build_preprocessor(plan)`` with its learned statistics set from Spark's.

    The pipeline is first fitted on a tiny synthetic frame (so every structural attribute is
    scikit-learn's own), then the statistics are replaced with the values Spark learned.
    """
    categories = stats.get("categories", [])
    n_rows = max([2, *(len(c) for c in categories)])
    synthetic = {c: np.arange(n_rows, dtype=float) for c in plan.numeric}
    for c, levels in zip(plan.categorical, categories, strict=True):
        synthetic[c] = np.array([levels[i % len(levels)] for i in range(n_rows)], dtype=object)
    pre = build_preprocessor(plan).fit(pd.DataFrame(synthetic))
    num = pre.named_transformers_["num"]
    num.named_steps["impute"].statistics_ = stats["medians"].astype(float)
    scaler = num.named_steps["scale"]
    if plan.scale == "standard":
        std = stats["std"].astype(float)
        scaler.mean_ = stats["mean"].astype(float)
        scaler.var_ = std**2
        # Spark scales a constant feature to 0; scikit-learn divides by 1 where the spread is 0.
        scaler.scale_ = np.where(std == 0, 1.0, std)
    elif plan.scale == "minmax":
        low, high = stats["min"].astype(float), stats["max"].astype(float)
        spread = np.where(high - low == 0, 1.0, high - low)
        scaler.data_min_, scaler.data_max_, scaler.data_range_ = low, high, high - low
        scaler.scale_ = 1.0 / spread
        scaler.min_ = -low / spread
    elif plan.scale == "robust":
        spread = stats["range"].astype(float)
        scaler.center_ = stats["median"].astype(float)
        scaler.scale_ = np.where(spread == 0, 1.0, spread)
    if plan.categorical:
        cat = pre.named_transformers_["cat"]
        cat.named_steps["impute"].statistics_ = np.array(modes, dtype=object)
    return pre
