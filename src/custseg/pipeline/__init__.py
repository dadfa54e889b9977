"""The steps of one run: options -> prepare -> search k -> fit -> explain.

``custseg.segmentation.segment`` chains them; RFM and Spark reuse them.
"""
