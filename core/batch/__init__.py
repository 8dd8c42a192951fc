"""Batch feature jobs over datasets of any size, on DuckDB (one machine) or Apache Spark (a
cluster): the purchase model's per-user features and the user x item aggregates, defined once
as SQL text that both engines run, written as Parquet tables with engine-independent checksums.
"""

from core.batch.checksums import table_checksums
from core.batch.engines import DEFAULT_SPARK_MASTER, EngineError
from core.batch.job import (
    ENGINES,
    IN_DATASET,
    USER_ITEMS,
    USERS,
    USERS_BY_DATE,
    Engine,
    FeatureResult,
    FeatureTables,
    FeatureTablesError,
    default_features_cutoff,
    run_feature_job,
    write_source,
)
from core.batch.sql import FeaturePlan, feature_queries

__all__ = [
    "DEFAULT_SPARK_MASTER",
    "EngineError",
    "ENGINES",
    "IN_DATASET",
    "USERS",
    "USER_ITEMS",
    "USERS_BY_DATE",
    "Engine",
    "FeaturePlan",
    "FeatureResult",
    "FeatureTables",
    "FeatureTablesError",
    "default_features_cutoff",
    "feature_queries",
    "run_feature_job",
    "table_checksums",
    "write_source",
]
