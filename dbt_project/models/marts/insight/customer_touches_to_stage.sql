{#- Per customer: how many touches before becoming a lead, an MQL and a customer (the seed's 7-13 and 25-35
    figures, measured). Counted touches: marketing contacts plus the types in var insight_touches_to_stage
    (config/insight.yaml touches_to_stage); the default below equals the shipped config. -#}
{%- set cfg = var('insight_touches_to_stage') -%}

with

customers as (
    select customer_id from {{ ref('int_insight__customers') }}
),

touches as (
    select
        customer_id,
        occurred_at
    from {{ ref('int_insight__touchpoints') }}
    where is_marketing_contact or touchpoint_type in {{ insight_in_list(cfg['counted_touch_types']) }}
),

reached as (
    select
        customer_id,
        min(event_at) filter (where lifecycle_stage in ('lead', 'mql', 'sql', 'opportunity') or stage_group = 'customer') as became_lead_at,
        min(event_at) filter (where is_mql) as became_mql_at,
        min(customer_since_at) as became_customer_at
    from {{ ref('int_insight__stage_timeline') }}
    group by customer_id
)

select
    c.customer_id,
    r.became_lead_at,
    case when r.became_lead_at is not null then count(t.occurred_at) filter (where t.occurred_at <= r.became_lead_at) end as touches_to_lead,
    r.became_mql_at,
    case when r.became_mql_at is not null then count(t.occurred_at) filter (where t.occurred_at <= r.became_mql_at) end as touches_to_mql,
    r.became_customer_at,
    case when r.became_customer_at is not null then count(t.occurred_at) filter (where t.occurred_at <= r.became_customer_at) end as touches_to_customer,
    count(t.occurred_at) as touches_total
from customers as c
left join reached as r on c.customer_id = r.customer_id
left join touches as t on c.customer_id = t.customer_id
group by c.customer_id, r.became_lead_at, r.became_mql_at, r.became_customer_at
