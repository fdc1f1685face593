-- Each customer's lifecycle stage as of the run, when they entered it (the first snapshot of the current
-- run of that stage in customer_lifecycle_history) and their tenure.
with

as_of as (
    select
        as_of_at,
        as_of_date
    from {{ ref('int_insight__as_of') }}
),

history as (
    select h.*
    from {{ ref('customer_lifecycle_history') }} as h
    cross join as_of
    where h.snapshot_date <= as_of.as_of_date
),

runs as (
    -- a new run starts whenever the stage differs from the previous snapshot's
    select
        customer_id,
        snapshot_date,
        snapshot_at,
        lifecycle_stage,
        sum(case when lifecycle_stage is distinct from previous_stage then 1 else 0 end)
            over (partition by customer_id order by snapshot_date rows between unbounded preceding and current row) as run_id
    from (
        select
            *,
            lag(lifecycle_stage) over (partition by customer_id order by snapshot_date) as previous_stage
        from history
    ) as with_previous
),

current_run as (
    select
        customer_id,
        run_id,
        min(snapshot_date) as stage_entered_on
    from runs
    group by customer_id, run_id
    qualify run_id = max(run_id) over (partition by customer_id)
),

current_state as (
    select t.*
    from {{ ref('int_insight__stage_timeline') }} as t
    where t.is_snapshot and t.snapshot_source = 'as_of'
)

select
    s.customer_id,
    s.lifecycle_stage,
    s.stage_group,
    coalesce(cast(r.stage_entered_on as timestamp), s.event_at) as stage_entered_at,
    date_diff('day', s.known_since_at, as_of.as_of_at) as tenure_days,
    date_diff('day', s.customer_since_at, as_of.as_of_at) as customer_tenure_days,
    s.purchases,
    s.days_since_active,
    s.known_since_at,
    s.customer_since_at,
    as_of.as_of_at
from current_state as s
cross join as_of
left join current_run as r on s.customer_id = r.customer_id
