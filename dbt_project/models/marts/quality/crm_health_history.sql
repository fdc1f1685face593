{#- One row per source system per run (appended), so the health report can show the trend against the previous
    run. `measured_at` is the dbt run's start time (UTC); `as_of_at` the data's as-of time. A record of past runs:
    `touchplan run --full-refresh` keeps it (full_refresh=false). -#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false) }}

select
    health.*,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as measured_at,
    '{{ invocation_id }}' as dbt_invocation_id
from {{ ref('crm_health') }} as health
