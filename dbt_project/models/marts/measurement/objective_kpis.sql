{#- Business KPIs per objective and calendar month (the last 12 months up to the as-of month; the as-of month is
    partial), with the change on the previous month. Definitions (docs/measurement.md):
    acquisition: customers_acquired (first purchase in the month); retention: customers_retained (customers
    before the month with an active touch in it); reactivation: customers_reactivated (returned_after_lapsing
    moments); frequency: engagement_frequency (active touches per active customer); spend: revenue and
    average_order_value (purchase touches); conversion: new_mqls and deals_won; advocacy: advocacy_moments. -#}
{%- set m = measurement_settings() -%}

with

as_of as (
    select
        as_of_at,
        date_trunc('month', as_of_at) as as_of_month
    from {{ ref('int_insight__as_of') }}
),

months as (
    select cast(month_start as date) as month_start
    from as_of as a,
        generate_series(a.as_of_month - interval 12 month, a.as_of_month, interval 1 month) as g (month_start)
),

touches as (
    select
        t.customer_id,
        t.touchpoint_type,
        t.value,
        cast(date_trunc('month', t.occurred_at) as date) as month_start
    from {{ ref('fct_touchpoints') }} as t
    cross join as_of as a
    where t.occurred_at <= a.as_of_at
),

stages as (
    select
        customer_id,
        cast(date_trunc('month', became_customer_at) as date) as customer_month,
        cast(date_trunc('month', became_mql_at) as date) as mql_month
    from {{ ref('customer_touches_to_stage') }}
),

moments as (
    select
        mo.customer_id,
        mo.moment,
        cast(date_trunc('month', mo.occurred_at) as date) as month_start
    from {{ ref('customer_moments') }} as mo
    cross join as_of as a
    where mo.occurred_at <= a.as_of_at
),

active as (
    select
        month_start,
        customer_id,
        count(*) as active_touches
    from touches
    where touchpoint_type in {{ insight_in_list(m['active_touch_types']) }}
    group by all
),

purchases as (
    select
        month_start,
        count(*) as orders,
        sum(value) as revenue
    from touches
    where touchpoint_type in {{ insight_in_list(m['purchase_touch_types']) }}
    group by all
),

values_by_month as (
    select
        mo.month_start,
        (select count(*) from stages as s where s.customer_month = mo.month_start) as customers_acquired,
        (
            select count(*) from active as a inner join stages as s on a.customer_id = s.customer_id
            where a.month_start = mo.month_start and s.customer_month < mo.month_start
        ) as customers_retained,
        (
            select count(distinct customer_id) from moments as x
            where x.month_start = mo.month_start and x.moment = 'returned_after_lapsing'
        ) as customers_reactivated,
        (
            select sum(active_touches) / nullif(count(*), 0) from active as a where a.month_start = mo.month_start
        ) as engagement_frequency,
        (select coalesce(sum(revenue), 0) from purchases as p where p.month_start = mo.month_start) as revenue,
        (select sum(revenue) / nullif(sum(orders), 0) from purchases as p where p.month_start = mo.month_start)
            as average_order_value,
        (select count(*) from stages as s where s.mql_month = mo.month_start) as new_mqls,
        (select coalesce(sum(orders), 0) from purchases as p where p.month_start = mo.month_start) as deals_won,
        (
            select count(*) from moments as x
            where x.month_start = mo.month_start and x.moment in {{ insight_in_list(m['advocacy_moments']) }}
        ) as advocacy_moments
    from months as mo
),

long as (
    select month_start, 'acquisition' as objective, 'customers_acquired' as kpi, cast(customers_acquired as double) as value from values_by_month
    union all select month_start, 'retention', 'customers_retained', customers_retained from values_by_month
    union all select month_start, 'reactivation', 'customers_reactivated', customers_reactivated from values_by_month
    union all select month_start, 'frequency', 'engagement_frequency', engagement_frequency from values_by_month
    union all select month_start, 'spend', 'revenue', revenue from values_by_month
    union all select month_start, 'spend', 'average_order_value', average_order_value from values_by_month
    union all select month_start, 'conversion', 'new_mqls', new_mqls from values_by_month
    union all select month_start, 'conversion', 'deals_won', deals_won from values_by_month
    union all select month_start, 'advocacy', 'advocacy_moments', advocacy_moments from values_by_month
),

with_previous as (
    select
        *,
        lag(value) over (partition by objective, kpi order by month_start) as previous_value
    from long
)

select
    objective || ':' || kpi || ':' || strftime(month_start, '%Y-%m') as kpi_id,
    objective,
    kpi,
    strftime(month_start, '%Y-%m') as period,
    month_start as period_start,
    month_start = (select cast(as_of_month as date) from as_of) as is_partial_period,
    round(value, 4) as value,
    round(previous_value, 4) as previous_value,
    round(value - previous_value, 4) as change,
    round((value - previous_value) / nullif(previous_value, 0), 4) as change_pct
from with_previous
-- the first month of the spine only feeds the second's previous value
where month_start > (select cast(as_of_month - interval 12 month as date) from as_of)
