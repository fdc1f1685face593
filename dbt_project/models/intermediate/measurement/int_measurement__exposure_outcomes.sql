{#- Per exposure (int_measurement__exposures): what happened in its attribution window (after the send, or after
    the planned slot for a held-out customer, for the objective's window_days, cut at the as-of time), and whether
    that is a conversion as the campaign's objective defines it (docs/measurement.md). The campaign's own email
    events never count towards its conversion (a held-out customer cannot open an email they were not sent). -#}
{%- set m = measurement_settings() -%}

with

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

exposures as (
    select
        e.*,
        least(e.window_ends_at, a.as_of_at) as observed_until,
        e.window_ends_at <= a.as_of_at as is_window_complete
    from {{ ref('int_measurement__exposures') }} as e
    cross join as_of as a
),

touches as (
    select
        t.customer_id,
        t.touchpoint_type,
        t.campaign_id,
        t.channel,
        t.value,
        t.occurred_at
    from {{ ref('fct_touchpoints') }} as t
    cross join as_of as a
    where t.occurred_at <= a.as_of_at
),

stages as (
    select
        s.customer_id,
        s.became_mql_at,
        s.became_customer_at
    from {{ ref('customer_touches_to_stage') }} as s
),

sales_ready as (
    select
        customer_id,
        min(event_at) as became_sales_ready_at
    from {{ ref('int_insight__stage_timeline') }}
    where is_sales_ready
    group by customer_id
),

moments as (
    select
        customer_id,
        occurred_at
    from {{ ref('customer_moments') }}
    where moment in {{ insight_in_list(m['advocacy_moments']) }}
),

touch_counts as (
    select
        e.exposure_id,
        count(*) filter (
            where t.touchpoint_type in {{ insight_in_list(m['active_touch_types']) }}
            and t.occurred_at > e.exposed_at and coalesce(t.campaign_id, '') <> e.campaign_id
        ) as active_touches,
        count(*) filter (
            where t.touchpoint_type in {{ insight_in_list(m['active_touch_types']) }}
            and t.occurred_at > e.exposed_at and coalesce(t.campaign_id, '') <> e.campaign_id
            and t.occurred_at > e.window_ends_at - to_days({{ insight_num(m['still_active_days'], 'measurement.still_active_days') }})
        ) as late_active_touches,
        count(*) filter (
            where t.touchpoint_type in {{ insight_in_list(m['purchase_touch_types']) }} and t.occurred_at > e.exposed_at
        ) as purchases,
        coalesce(sum(t.value) filter (
            where t.touchpoint_type in {{ insight_in_list(m['purchase_touch_types']) }} and t.occurred_at > e.exposed_at
        ), 0) as revenue,
        count(*) filter (
            where t.touchpoint_type in ('deal_created', 'deal_won') and t.occurred_at > e.exposed_at
        ) as deal_steps,
        count(*) filter (where t.channel = 'email' and t.campaign_id = e.campaign_id and t.touchpoint_type = 'delivered') > 0 as was_delivered,
        count(*) filter (where t.channel = 'email' and t.campaign_id = e.campaign_id and t.touchpoint_type = 'open') > 0 as was_opened,
        count(*) filter (where t.channel = 'email' and t.campaign_id = e.campaign_id and t.touchpoint_type = 'click') > 0 as was_clicked,
        count(*) filter (
            where t.channel = 'email' and t.campaign_id = e.campaign_id and t.touchpoint_type in ('unsubscribe', 'group_unsubscribe')
        ) > 0 as was_unsubscribed,
        count(*) filter (where t.channel = 'email' and t.campaign_id = e.campaign_id and t.touchpoint_type = 'bounce') > 0 as was_bounced,
        count(*) filter (where t.channel = 'email' and t.campaign_id = e.campaign_id and t.touchpoint_type = 'spamreport') > 0 as was_complained
    from exposures as e
    inner join touches as t
        on
            e.customer_id = t.customer_id
            and e.exposed_at <= t.occurred_at
            and e.observed_until >= t.occurred_at
    group by e.exposure_id
),

moment_counts as (
    select
        e.exposure_id,
        count(*) as advocacy_moments
    from exposures as e
    inner join moments as mo
        on
            e.customer_id = mo.customer_id
            and e.exposed_at < mo.occurred_at
            and e.observed_until >= mo.occurred_at
    group by e.exposure_id
),

measured as (
    select
        e.*,
        coalesce(tc.active_touches, 0) as active_touches,
        coalesce(tc.late_active_touches, 0) as late_active_touches,
        coalesce(tc.purchases, 0) as purchases,
        coalesce(tc.revenue, 0) as revenue,
        coalesce(tc.deal_steps, 0) as deal_steps,
        coalesce(mc.advocacy_moments, 0) as advocacy_moments,
        coalesce(s.became_customer_at > e.exposed_at and s.became_customer_at <= e.observed_until, false)
            as became_customer,
        coalesce(s.became_mql_at > e.exposed_at and s.became_mql_at <= e.observed_until, false) as became_mql,
        coalesce(sr.became_sales_ready_at > e.exposed_at and sr.became_sales_ready_at <= e.observed_until, false)
            as became_sales_ready,
        coalesce(tc.was_delivered, false) as was_delivered,
        coalesce(tc.was_opened, false) as was_opened,
        coalesce(tc.was_clicked, false) as was_clicked,
        coalesce(tc.was_unsubscribed, false) as was_unsubscribed,
        coalesce(tc.was_bounced, false) as was_bounced,
        coalesce(tc.was_complained, false) as was_complained
    from exposures as e
    left join touch_counts as tc on e.exposure_id = tc.exposure_id
    left join moment_counts as mc on e.exposure_id = mc.exposure_id
    left join stages as s on e.customer_id = s.customer_id
    left join sales_ready as sr on e.customer_id = sr.customer_id
)

select
    exposure_id,
    customer_id,
    campaign_id,
    objective,
    period,
    exposure_group,
    is_control,
    window_days,
    is_window_complete,
    active_touches,
    purchases,
    revenue,
    advocacy_moments,
    became_customer,
    became_mql,
    became_sales_ready,
    was_delivered,
    was_opened,
    was_clicked,
    was_unsubscribed,
    was_bounced,
    was_complained,
    case objective
        when 'acquisition' then became_customer
        when 'conversion' then became_mql or became_sales_ready or deal_steps > 0
        when 'retention' then late_active_touches > 0
        when 'reactivation' then active_touches > 0
        when 'frequency' then active_touches >= {{ insight_num(m['frequency_min_touches'], 'measurement.frequency_min_touches') }}
        when 'spend' then purchases > 0
        when 'advocacy' then advocacy_moments > 0
        else false
    end as is_converted,
    exposed_at,
    window_ends_at
from measured
