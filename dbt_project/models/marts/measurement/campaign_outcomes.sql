{#- Per configured campaign and period (calendar month of the send, or of the planned slot for held-out
    customers): the plan's funnel (eligible, held out, planned), what was sent and what came back, and the
    conversion its objective defines for the treated (sent) and the control (held-out) customers. -#}
with

campaigns as (
    {{ measurement_campaigns_sql() }}
),

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

decisions as (
    select
        d.campaign_id,
        strftime(d.slot_at, '%Y-%m') as period,
        count(distinct d.customer_id) as eligible,
        count(distinct d.customer_id) filter (where d.outcome = 'held_out' and d.reason_code = 'global_holdout')
            as held_out_global,
        count(distinct d.customer_id) filter (where d.outcome = 'held_out' and d.reason_code <> 'global_holdout')
            as held_out_campaign,
        count(distinct d.customer_id) filter (where d.outcome = 'planned') as planned
    from {{ ref('int_measurement__decisions') }} as d
    cross join as_of as a
    where d.slot_at <= a.as_of_at
    group by all
),

exposures as (
    select
        campaign_id,
        period,
        count(*) filter (where exposure_group = 'treated') as sent,
        count(*) filter (where exposure_group = 'treated' and was_delivered) as delivered,
        count(*) filter (where exposure_group = 'treated' and was_opened) as opened,
        count(*) filter (where exposure_group = 'treated' and was_clicked) as clicked,
        count(*) filter (where exposure_group = 'treated' and was_unsubscribed) as unsubscribed,
        count(*) filter (where exposure_group = 'treated' and was_bounced) as bounced,
        count(*) filter (where exposure_group = 'treated' and was_complained) as complained,
        count(*) filter (where not is_control) as treated_n,
        count(*) filter (where not is_control and is_converted) as treated_conversions,
        count(*) filter (where is_control) as control_n,
        count(*) filter (where is_control and is_converted) as control_conversions,
        count(*) filter (where exposure_group = 'held_out_global') as control_global_n,
        count(*) filter (where exposure_group = 'held_out_global' and is_converted) as control_global_conversions,
        sum(revenue) filter (where not is_control) as treated_revenue,
        sum(revenue) filter (where is_control) as control_revenue,
        count(*) filter (where not is_window_complete) as windows_open
    from {{ ref('int_measurement__exposure_outcomes') }}
    group by all
),

keys as (
    select
        campaign_id,
        period
    from decisions
    union
    select
        campaign_id,
        period
    from exposures
)

select
    k.campaign_id || ':' || k.period as campaign_period_id,
    k.campaign_id,
    c.objective,
    k.period,
    -- eligible counts every candidate of the plan; a campaign measured only from its sends has its senders
    greatest(coalesce(d.eligible, 0), coalesce(x.sent, 0) + coalesce(x.control_n, 0)) as eligible,
    coalesce(d.held_out_global, 0) as held_out_global,
    coalesce(d.held_out_campaign, 0) as held_out_campaign,
    coalesce(d.planned, 0) as planned,
    coalesce(x.sent, 0) as sent,
    coalesce(x.delivered, 0) as delivered,
    coalesce(x.opened, 0) as opened,
    coalesce(x.clicked, 0) as clicked,
    coalesce(x.unsubscribed, 0) as unsubscribed,
    coalesce(x.bounced, 0) as bounced,
    coalesce(x.complained, 0) as complained,
    coalesce(x.treated_n, 0) as treated_n,
    coalesce(x.treated_conversions, 0) as treated_conversions,
    coalesce(x.control_n, 0) as control_n,
    coalesce(x.control_conversions, 0) as control_conversions,
    coalesce(x.control_global_n, 0) as control_global_n,
    coalesce(x.control_global_conversions, 0) as control_global_conversions,
    coalesce(x.treated_revenue, 0) as treated_revenue,
    coalesce(x.control_revenue, 0) as control_revenue,
    c.window_days as attribution_window_days,
    coalesce(x.windows_open, 0) as windows_open
from keys as k
inner join campaigns as c on k.campaign_id = c.campaign_id
left join decisions as d on k.campaign_id = d.campaign_id and k.period = d.period
left join exposures as x on k.campaign_id = x.campaign_id and k.period = x.period
