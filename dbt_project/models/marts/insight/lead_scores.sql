-- Lead score as of the run with its parts, so a marketer can see why: fit (BANT, each part with the source
-- that supplied it) plus decayed engagement, the MQL flag and the sales hand-off flag.
with

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

fit as (
    select * from {{ ref('int_insight__lead_fit') }}
),

current_state as (
    select * from {{ ref('int_insight__stage_timeline') }}
    where is_snapshot and snapshot_source = 'as_of'
),

first_mql as (
    select
        customer_id,
        min(event_at) as became_mql_at
    from {{ ref('int_insight__stage_timeline') }}
    where is_mql
    group by customer_id
)

select
    f.customer_id,
    f.budget_score,
    f.budget_source,
    f.authority_score,
    f.authority_source,
    f.need_score,
    f.need_source,
    f.timeframe_score,
    f.timeframe_source,
    f.fit_score,
    coalesce(s.engagement_score, 0) as engagement_score,
    coalesce(s.lead_score, 0) as lead_score,
    coalesce(s.is_mql, false) as is_mql,
    coalesce(s.is_sales_ready, false) as is_sales_ready,
    s.lifecycle_stage,
    m.became_mql_at,
    as_of.as_of_at
from fit as f
cross join as_of
left join current_state as s on f.customer_id = s.customer_id
left join first_mql as m on f.customer_id = m.customer_id
