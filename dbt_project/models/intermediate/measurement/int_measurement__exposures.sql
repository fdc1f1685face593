{#- One row per customer, configured campaign and period (calendar month, YYYY-MM) in which the customer was
    either sent the campaign (treated, from the first send of the period) or held out of it (control, from the
    first planned slot of the period: held-out customers are never sent). A customer sent in a period is treated
    in it even if a plan also held them out (a changed holdout salt); they are never counted twice. -#}
with

campaigns as (
    {{ measurement_campaigns_sql() }}
),

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

held as (
    select
        d.customer_id,
        d.campaign_id,
        min(d.slot_at) as exposed_at,
        bool_or(d.reason_code = 'global_holdout') as is_global
    from {{ ref('int_measurement__decisions') }} as d
    cross join as_of
    where d.outcome = 'held_out' and d.slot_at <= as_of.as_of_at
    group by d.customer_id, d.campaign_id, strftime(d.slot_at, '%Y-%m')
),

sent as (
    select
        customer_id,
        campaign_id,
        min(sent_at) as exposed_at
    from {{ ref('int_measurement__sends') }}
    group by customer_id, campaign_id, strftime(sent_at, '%Y-%m')
),

exposures as (
    select
        customer_id,
        campaign_id,
        exposed_at,
        'treated' as exposure_group
    from sent
    union all
    select
        h.customer_id,
        h.campaign_id,
        h.exposed_at,
        case when h.is_global then 'held_out_global' else 'held_out_campaign' end as exposure_group
    from held as h
    where not exists (
        select 1 from sent as s
        where
            s.customer_id = h.customer_id and s.campaign_id = h.campaign_id
            and strftime(s.exposed_at, '%Y-%m') = strftime(h.exposed_at, '%Y-%m')
    )
)

select
    md5(concat_ws('|', e.campaign_id, e.customer_id, strftime(e.exposed_at, '%Y-%m'))) as exposure_id,
    e.customer_id,
    e.campaign_id,
    c.objective,
    strftime(e.exposed_at, '%Y-%m') as period,
    e.exposure_group,
    e.exposure_group <> 'treated' as is_control,
    e.exposed_at,
    c.window_days,
    e.exposed_at + to_days(c.window_days) as window_ends_at
from exposures as e
inner join campaigns as c on e.campaign_id = c.campaign_id
