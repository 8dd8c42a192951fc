"""Datasets on disk: big event logs converted once into canonical Parquet tables."""
