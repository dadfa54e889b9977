"""The ``spark`` K-Means engine: in-memory arrays fitted with Spark ML."""

from custseg.spark import fit

__all__ = ["fit"]
