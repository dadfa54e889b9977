"""Plotly charts drawn from plain numbers, below the pipeline.

The k search (:class:`~custseg.KChoice`) and a loaded model (:class:`~custseg.SegmentModel`)
draw their charts from here, and so does the report: ``style`` (the shared look and the one-call
finish), ``k`` (elbow, criteria by k) and ``profiles`` (the profile heatmap).
"""
