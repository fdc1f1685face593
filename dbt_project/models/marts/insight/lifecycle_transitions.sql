-- Every move between lifecycle stages recorded in customer_lifecycle_history (up to the as-of day), dated
-- by the snapshot that first showed the new stage.
with

as_of as (
    select as_of_date from {{ ref('int_insight__as_of') }}
),

history as (
    select
        h.customer_id,
        h.snapshot_date,
        h.snapshot_at,
        h.snapshot_source,
        h.lifecycle_stage
    from {{ ref('customer_lifecycle_history') }} as h
    cross join as_of
    where h.snapshot_date <= as_of.as_of_date
),

ordered as (
    select
        *,
        lag(lifecycle_stage) over (partition by customer_id order by snapshot_date) as from_stage,
        lag(snapshot_date) over (partition by customer_id order by snapshot_date) as previous_snapshot_date
    from history
)

select
    md5(customer_id || '|' || cast(snapshot_date as varchar)) as transition_id,
    customer_id,
    from_stage,
    lifecycle_stage as to_stage,
    cast(snapshot_date as timestamp) as transitioned_at,
    previous_snapshot_date as last_seen_in_from_stage_on,
    snapshot_source
from ordered
where from_stage is not null and from_stage <> lifecycle_stage
