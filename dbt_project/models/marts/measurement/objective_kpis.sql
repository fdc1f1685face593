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
        cast(date_trunc('month', as_of_at) as date) as as_of_month
    from {{ ref('int_insight__as_of') }}
),

months as (
    select cast(g.month_start as date) as month_start
    from as_of
    cross join generate_series(as_of.as_of_month - interval 12 month, as_of.as_of_month, interval 1 month) as g (month_start)
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
    group by month_start, customer_id
),

acquired as (
    select
        customer_month as month_start,
        count(*) as customers_acquired
    from stages
    where customer_month is not null
    group by customer_month
),

mqls as (
    select
        mql_month as month_start,
        count(*) as new_mqls
    from stages
    where mql_month is not null
    group by mql_month
),

retained as (
    select
        a.month_start,
        count(*) as customers_retained
    from active as a
    inner join stages as s on a.customer_id = s.customer_id
    where s.customer_month < a.month_start
    group by a.month_start
),

frequency as (
    select
        month_start,
        sum(active_touches) / count(*) as engagement_frequency
    from active
    group by month_start
),

purchases as (
    select
        month_start,
        count(*) as orders,
        sum(value) as revenue
    from touches
    where touchpoint_type in {{ insight_in_list(m['purchase_touch_types']) }}
    group by month_start
),

reactivated as (
    select
        month_start,
        count(distinct customer_id) as customers_reactivated
    from moments
    where moment = 'returned_after_lapsing'
    group by month_start
),

advocacy as (
    select
        month_start,
        count(*) as advocacy_moments
    from moments
    where moment in {{ insight_in_list(m['advocacy_moments']) }}
    group by month_start
),

values_by_month as (
    select
        mo.month_start,
        coalesce(acq.customers_acquired, 0) as customers_acquired,
        coalesce(ret.customers_retained, 0) as customers_retained,
        coalesce(rea.customers_reactivated, 0) as customers_reactivated,
        fr.engagement_frequency,
        coalesce(pu.revenue, 0) as revenue,
        pu.revenue / nullif(pu.orders, 0) as average_order_value,
        coalesce(mq.new_mqls, 0) as new_mqls,
        coalesce(pu.orders, 0) as deals_won,
        coalesce(adv.advocacy_moments, 0) as advocacy_moments
    from months as mo
    left join acquired as acq on mo.month_start = acq.month_start
    left join retained as ret on mo.month_start = ret.month_start
    left join reactivated as rea on mo.month_start = rea.month_start
    left join frequency as fr on mo.month_start = fr.month_start
    left join purchases as pu on mo.month_start = pu.month_start
    left join mqls as mq on mo.month_start = mq.month_start
    left join advocacy as adv on mo.month_start = adv.month_start
),

long as (
    select
        month_start,
        'acquisition' as objective,
        'customers_acquired' as kpi,
        cast(customers_acquired as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'retention' as objective,
        'customers_retained' as kpi,
        cast(customers_retained as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'reactivation' as objective,
        'customers_reactivated' as kpi,
        cast(customers_reactivated as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'frequency' as objective,
        'engagement_frequency' as kpi,
        cast(engagement_frequency as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'spend' as objective,
        'revenue' as kpi,
        cast(revenue as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'spend' as objective,
        'average_order_value' as kpi,
        cast(average_order_value as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'conversion' as objective,
        'new_mqls' as kpi,
        cast(new_mqls as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'conversion' as objective,
        'deals_won' as kpi,
        cast(deals_won as double) as kpi_value
    from values_by_month
    union all
    select
        month_start,
        'advocacy' as objective,
        'advocacy_moments' as kpi,
        cast(advocacy_moments as double) as kpi_value
    from values_by_month
),

with_previous as (
    select
        month_start,
        objective,
        kpi,
        kpi_value,
        lag(kpi_value) over (partition by objective, kpi order by month_start) as previous_value
    from long
)

select
    wp.objective || ':' || wp.kpi || ':' || strftime(wp.month_start, '%Y-%m') as kpi_id,
    wp.objective,
    wp.kpi,
    strftime(wp.month_start, '%Y-%m') as period,
    wp.month_start as period_start,
    wp.month_start = a.as_of_month as is_partial_period,
    round(wp.kpi_value, 4) as value,
    round(wp.previous_value, 4) as previous_value,
    round(wp.kpi_value - wp.previous_value, 4) as change,
    round((wp.kpi_value - wp.previous_value) / nullif(wp.previous_value, 0), 4) as change_pct
from with_previous as wp
cross join as_of as a
-- the first month of the spine only feeds the second's previous value
where wp.month_start > a.as_of_month - interval 12 month
