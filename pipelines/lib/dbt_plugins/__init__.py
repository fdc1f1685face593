"""dbt-duckdb plugins (listed under `plugins:` in dbt_project/profiles.yml)."""
