"""Batch scoring of whole ECG datasets on Ray Data: ``python -m ecg_core batch`` (README 'Batch scoring').

inputs → parse (Ray tasks) → scoring (an actor pool running the endpoint's signal route) → output (Parquet).
Ray and pyarrow come from requirements-batch.txt; nothing in the endpoint imports this package.
"""
