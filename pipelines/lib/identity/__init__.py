"""Identity resolution for the single customer view (pure Python + DuckDB SQL + Splink; no Dagster)."""

from pipelines.lib.identity.config import IdentityConfig, identity_dbt_vars, load_identity_config
from pipelines.lib.identity.resolve import IdentityInputError, IdentityReport, resolve_identities
from pipelines.lib.identity.scoring import PairScores, score_pairs

__all__ = [
    "IdentityConfig",
    "IdentityInputError",
    "IdentityReport",
    "PairScores",
    "identity_dbt_vars",
    "load_identity_config",
    "resolve_identities",
    "score_pairs",
]
