"""What a finished run writes: the summary, the report, the model file, CSV/Parquet and SQL.

Outputs are handed a result and render it; they never import the pipeline that made it.
"""
