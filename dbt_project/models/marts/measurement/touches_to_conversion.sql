{#- The distribution of counted marketing touches (customer_touches_to_stage's definition: marketing contacts,
    i.e. email deliveries, plus config/insight.yaml touches_to_stage.counted_touch_types, across all channels)
    before each funnel stage, beside the seed's reference ranges: 7 to 13 touches to generate a lead, another
    25 to 35 to close (so `won` counts the touches after becoming a lead, up to the first won deal). -#}
{%- set cfg = var('insight_touches_to_stage') -%}

with

touches as (
    select
        customer_id,
        occurred_at
    from {{ ref('int_insight__touchpoints') }}
    where is_marketing_contact or touchpoint_type in {{ insight_in_list(cfg['counted_touch_types']) }}
),

stages as (
    select * from {{ ref('customer_touches_to_stage') }}
),

sales_ready as (
    select
        customer_id,
        min(event_at) as became_sales_ready_at
    from {{ ref('int_insight__stage_timeline') }}
    where is_sales_ready
    group by customer_id
),

sales_ready_touches as (
    select
        sr.customer_id,
        count(t.occurred_at) as touches_to_sales_ready
    from sales_ready as sr
    left join touches as t on sr.customer_id = t.customer_id and sr.became_sales_ready_at >= t.occurred_at
    group by sr.customer_id
),

per_customer as (
    select
        'lead' as stage,
        1 as stage_order,
        'first touch' as counted_from,
        touches_to_lead as touches
    from stages
    where touches_to_lead is not null
    union all
    select
        'mql' as stage,
        2 as stage_order,
        'first touch' as counted_from,
        touches_to_mql as touches
    from stages
    where touches_to_mql is not null
    union all
    select
        'sales_ready' as stage,
        3 as stage_order,
        'first touch' as counted_from,
        touches_to_sales_ready as touches
    from sales_ready_touches
    union all
    select
        'won' as stage,
        4 as stage_order,
        'lead' as counted_from,
        touches_to_customer - touches_to_lead as touches
    from stages
    where touches_to_customer is not null and touches_to_lead is not null and became_lead_at <= became_customer_at
),

spine as (
    select
        'lead' as stage,
        1 as stage_order,
        'first touch' as counted_from,
        7 as reference_low,
        13 as reference_high
    union all
    select
        'mql' as stage,
        2 as stage_order,
        'first touch' as counted_from,
        null as reference_low,
        null as reference_high
    union all
    select
        'sales_ready' as stage,
        3 as stage_order,
        'first touch' as counted_from,
        null as reference_low,
        null as reference_high
    union all
    select
        'won' as stage,
        4 as stage_order,
        'lead' as counted_from,
        25 as reference_low,
        35 as reference_high
),

distribution as (
    select
        stage,
        count(*) as customers,
        quantile_cont(touches, 0.25) as p25,
        quantile_cont(touches, 0.5) as median,
        quantile_cont(touches, 0.75) as p75,
        avg(touches) as mean,
        min(touches) as min_touches,
        max(touches) as max_touches
    from per_customer
    group by stage
)

select
    s.stage,
    s.stage_order,
    s.counted_from,
    coalesce(d.customers, 0) as n,
    d.p25,
    d.median,
    d.p75,
    round(d.mean, 2) as mean,
    d.min_touches,
    d.max_touches,
    s.reference_low,
    s.reference_high,
    case
        when s.reference_low is null or d.median is null then null
        when d.median < s.reference_low then 'below'
        when d.median > s.reference_high then 'above'
        else 'within'
    end as median_vs_reference
from spine as s
left join distribution as d on s.stage = d.stage
