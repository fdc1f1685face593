"""Customer insight definitions (config/insight.yaml): pydantic models and the dbt vars they become."""

from pipelines.lib.insight.config import InsightSettings, dbt_vars, load_insight_settings

__all__ = ["InsightSettings", "dbt_vars", "load_insight_settings"]
