{#- Daily lifecycle snapshot, kept in the warehouse across runs (incremental, unique key customer_id +
    snapshot_date). Each run upserts the as-of day's row for every customer. The daily rows record past runs and
    cannot be rebuilt from the exports, so `touchplan run --full-refresh` keeps this table (full_refresh=false;
    drop the table to rebuild it). The first build also loads the month-end stages derived from the touchpoint timeline over the history
    window, so transitions exist from the first run; later runs add derived month-ends only where no row
    exists yet (a recorded daily snapshot is never overwritten by a derived one). The days of a customer id that
    identity merged into another move to the id that carries it today (macros/lifecycle_history.sql). -#}
-- depends_on: {{ ref('customer_id_lineage') }}
{{ config(
    materialized='incremental',
    unique_key=['customer_id', 'snapshot_date'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    full_refresh=false,
    pre_hook=["{{ lifecycle_history_carry_merged() }}", "{{ lifecycle_history_delete_merged() }}"]
) }}

with

timeline as (
    select * from {{ ref('int_insight__stage_timeline') }}
    where is_snapshot
),

candidates as (
    select
        customer_id,
        snapshot_date,
        snapshot_source,
        stage_group,
        lifecycle_stage,
        lead_score,
        is_mql,
        is_sales_ready,
        purchases,
        days_since_active,
        event_at as snapshot_at
    from timeline
)

select c.*
from candidates as c
{% if is_incremental() %}
where c.snapshot_source = 'as_of'
    or not exists (
        select 1 from {{ this }} as h
        where h.customer_id = c.customer_id and h.snapshot_date = c.snapshot_date
    )
{% endif %}
