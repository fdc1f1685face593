{#- Lifecycle stage and lead score along each customer's timeline, in one sorted pass.
    Rows: every touchpoint up to the as-of time, plus an evaluation row at each month-end of the history
    window and at the as-of time (snapshot_date set). Running window aggregates give, at each row, what was
    known then: purchases, last active touch, open deal, returns after lapsing, decayed engagement; the stage
    rules of var insight_lifecycle and the score rules of var insight_lead_scoring are applied to them.
    Defaults below equal the shipped config/insight.yaml. -#}
{%- set lc = var('insight_lifecycle') -%}
{%- set ls = var('insight_lead_scoring') -%}

{%- set cu = lc['customer'] -%}
{%- set eng = ls['engagement'] -%}
{%- set half_life = insight_num(eng['half_life_days'], 'insight_lead_scoring.engagement.half_life_days') -%}

with

as_of as (
    select
        as_of_at,
        as_of_date
    from {{ ref('int_insight__as_of') }}
),

customers as (
    select
        customer_id,
        is_customer,
        first_seen_at
    from {{ ref('int_insight__customers') }}
),

fit as (
    select * from {{ ref('int_insight__lead_fit') }}
),

touchpoints as (
    select
        customer_id,
        touchpoint_type,
        value,
        occurred_at
    from {{ ref('int_insight__touchpoints') }}
),

first_touches as (
    select
        customer_id,
        min(occurred_at) as first_touch_at,
        count(*) filter (where touchpoint_type in {{ insight_in_list(cu['revenue_touch_types']) }}) as revenue_touches
    from touchpoints
    group by customer_id
),

known as (
    select
        c.customer_id,
        c.is_customer,
        least(coalesce(c.first_seen_at, t.first_touch_at), coalesce(t.first_touch_at, c.first_seen_at)) as known_since_at,
        coalesce(t.revenue_touches, 0) as revenue_touches
    from customers as c
    left join first_touches as t on c.customer_id = t.customer_id
),

-- month-ends of the history window (state at the end of that day) and the as-of time itself
snapshot_points as (
    select
        cast(month_start - interval 1 day as date) as snapshot_date,
        month_start - interval 1 microsecond as snapshot_at,  -- the end of the month's last day
        'derived' as snapshot_source
    from (
        select
            unnest(generate_series(
                date_trunc('month', as_of.as_of_at) - interval ({{ insight_num(lc['history_months'], 'insight_lifecycle.history_months') }}) month + interval 1 month,
                date_trunc('month', as_of.as_of_at),
                interval 1 month
            )) as month_start
        from as_of
    )
    where cast(month_start - interval 1 day as date) < (select as_of.as_of_date from as_of)
    union all
    select
        as_of_date as snapshot_date,
        as_of_at as snapshot_at,
        'as_of' as snapshot_source
    from as_of
),

active_touches as (
    -- a return after lapsing: an active touch more than lapsing_days after the previous one, when the
    -- customer had already bought before that previous touch
    select
        customer_id,
        occurred_at,
        lag(occurred_at) over (partition by customer_id order by occurred_at) as previous_active_at,
        lead(occurred_at) over (partition by customer_id order by occurred_at) as next_active_at,
        min(case when touchpoint_type in {{ insight_in_list(cu['revenue_touch_types']) }} then occurred_at end)
            over (partition by customer_id order by occurred_at rows between unbounded preceding and current row)
            as first_purchase_so_far_at
    from touchpoints
    where touchpoint_type in {{ insight_in_list(cu['active_touch_types']) }}
),

returns as (
    select
        customer_id,
        occurred_at,
        previous_active_at
    from active_touches
    where
        previous_active_at is not null
        and previous_active_at >= first_purchase_so_far_at
        and occurred_at > previous_active_at + interval ({{ insight_num(cu['lapsing_days'], 'insight_lifecycle.customer.lapsing_days') }}) day
),

lapses as (
    -- started lapsing: lapsing_days after a customer's active touch with no active touch since
    select
        customer_id,
        occurred_at + interval ({{ insight_num(cu['lapsing_days'], 'insight_lifecycle.customer.lapsing_days') }}) day as lapse_at
    from active_touches
    where
        first_purchase_so_far_at is not null
        and (next_active_at is null or next_active_at > occurred_at + interval ({{ insight_num(cu['lapsing_days'], 'insight_lifecycle.customer.lapsing_days') }}) day)
        and occurred_at + interval ({{ insight_num(cu['lapsing_days'], 'insight_lifecycle.customer.lapsing_days') }}) day <= (select as_of.as_of_at from as_of)
),

events as (
    select
        tp.customer_id,
        tp.occurred_at as event_at,
        0 as is_snapshot,
        1 as sort_key,
        cast(null as date) as snapshot_date,
        cast(null as varchar) as snapshot_source,
        tp.touchpoint_type,
        (
            case tp.touchpoint_type
                {%- for touch_type, points in eng['points'].items() %}
                    when {{ insight_lit(touch_type) }} then {{ insight_num(points, 'insight_lead_scoring.engagement.points') }}
                {%- endfor %}
                else 0
            end
            + case when tp.touchpoint_type = 'attended' then coalesce(tp.value, 0) * {{ insight_num(eng['webinar_minute_points'], 'insight_lead_scoring.engagement.webinar_minute_points') }} else 0 end
        ) as engagement_points,
        false as is_return
    from touchpoints as tp
    union all
    select
        r.customer_id,
        r.occurred_at as event_at,
        0 as is_snapshot,
        0 as sort_key,
        null as snapshot_date,
        null as snapshot_source,
        '_returned_after_lapsing' as touchpoint_type,
        0 as engagement_points,
        true as is_return
    from returns as r
    union all
    select
        l.customer_id,
        l.lapse_at as event_at,
        0 as is_snapshot,
        0 as sort_key,
        null as snapshot_date,
        null as snapshot_source,
        '_started_lapsing' as touchpoint_type,
        0 as engagement_points,
        false as is_return
    from lapses as l
    union all
    select
        k.customer_id,
        p.snapshot_at as event_at,
        1 as is_snapshot,
        2 as sort_key,
        p.snapshot_date,
        p.snapshot_source,
        null as touchpoint_type,
        0 as engagement_points,
        false as is_return
    from known as k
    cross join snapshot_points as p
    where
        cast(k.known_since_at as date) <= p.snapshot_date
        or (k.known_since_at is null and p.snapshot_source = 'as_of')
),

running as (
    select
        e.customer_id,
        e.event_at,
        e.is_snapshot,
        e.snapshot_date,
        e.snapshot_source,
        e.touchpoint_type,
        count(*) filter (where e.touchpoint_type in {{ insight_in_list(cu['revenue_touch_types']) }}) over w as purchases,
        min(e.event_at) filter (where e.touchpoint_type in {{ insight_in_list(cu['revenue_touch_types']) }}) over w as first_purchase_at,
        max(e.event_at) filter (where e.touchpoint_type in {{ insight_in_list(cu['active_touch_types']) }}) over w as last_active_at,
        count(*) filter (where e.touchpoint_type in {{ insight_in_list(lc['lead']['engaged_touch_types']) }}) over w as engaged_touches,
        max(e.event_at) filter (where e.touchpoint_type = 'deal_created') over w as last_deal_created_at,
        max(e.event_at) filter (where e.touchpoint_type in {{ insight_in_list(cu['revenue_touch_types']) }} or e.touchpoint_type = 'deal_lost') over w as last_deal_closed_at,
        max(e.event_at) filter (where e.is_return) over w as last_return_at,
        count(*) filter (where e.touchpoint_type in {{ insight_in_list(lc['lead']['engaged_touch_types']) }}) over (
            partition by e.customer_id order by e.event_at
            range between interval ({{ insight_num(cu['advocate']['window_days'], 'insight_lifecycle.customer.advocate.window_days') }}) day preceding and current row
        ) as recent_engaged_touches,
        -- sum of points * 0.5 ** (age / half-life), as a running sum of points * 2 ** ((t - as_of) / half-life)
        coalesce(sum(e.engagement_points * pow(2, date_diff('second', as_of.as_of_at, e.event_at) / 86400.0 / {{ half_life }})) over (
            partition by e.customer_id order by e.event_at
            range between interval ({{ insight_num(eng['window_days'], 'insight_lead_scoring.engagement.window_days') }}) day preceding and current row
        ), 0) * pow(2, -date_diff('second', as_of.as_of_at, e.event_at) / 86400.0 / {{ half_life }}) as engagement_raw
    from events as e
    cross join as_of
    window w as (partition by e.customer_id order by e.event_at, e.sort_key rows between unbounded preceding and current row)
),

scored as (
    select
        r.*,
        k.is_customer,
        k.known_since_at,
        -- a customer flagged in the CRM without any revenue touch counts as a customer since first seen
        coalesce(r.first_purchase_at, case when k.is_customer and k.revenue_touches = 0 then k.known_since_at end) as customer_since_at,
        round(least(100, r.engagement_raw), 2) as engagement_score,
        round(
            {{ insight_num(ls['fit_share'], 'insight_lead_scoring.fit_share') }} * coalesce(f.fit_score, 0)
            + (1 - {{ insight_num(ls['fit_share'], 'insight_lead_scoring.fit_share') }}) * least(100, r.engagement_raw), 2
        ) as lead_score,
        coalesce(f.fit_score, 0) as fit_score,
        f.budget_score,
        f.authority_score,
        f.need_score,
        f.timeframe_score
    from running as r
    inner join known as k on r.customer_id = k.customer_id
    left join fit as f on r.customer_id = f.customer_id
),

flagged as (
    select
        *,
        lead_score >= {{ insight_num(ls['mql_threshold'], 'insight_lead_scoring.mql_threshold') }} as is_mql,
        lead_score >= {{ insight_num(ls['mql_threshold'], 'insight_lead_scoring.mql_threshold') }}
        and lead_score >= {{ insight_num(ls['sales_handoff']['min_lead_score'], 'insight_lead_scoring.sales_handoff.min_lead_score') }}
        and fit_score >= {{ insight_num(ls['sales_handoff']['min_fit_score'], 'insight_lead_scoring.sales_handoff.min_fit_score') }}
        {%- for part in ls['sales_handoff']['required_parts'] %}
            {%- if part not in ['budget', 'authority', 'need', 'timeframe'] %}{{ exceptions.raise_compiler_error("insight var insight_lead_scoring.sales_handoff.required_parts: unknown part '" ~ part ~ "'") }}{% endif %}
            and coalesce({{ part }}_score, 0) > 0
        {%- endfor %} as is_sales_ready,
        date_diff('day', coalesce(last_active_at, customer_since_at), event_at) as days_since_active
    from scored
)

select
    customer_id,
    event_at,
    is_snapshot = 1 as is_snapshot,
    snapshot_date,
    snapshot_source,
    touchpoint_type,  -- null on snapshot rows; '_returned_after_lapsing' / '_started_lapsing' mark those events
    case
        when customer_since_at is not null and customer_since_at <= event_at then 'customer'
        else 'prospect'
    end as stage_group,
    case
        when customer_since_at is not null and customer_since_at <= event_at
            then
                case
                    when days_since_active > {{ insight_num(cu['lapsed_days'], 'insight_lifecycle.customer.lapsed_days') }} then 'lapsed'
                    when days_since_active > {{ insight_num(cu['lapsing_days'], 'insight_lifecycle.customer.lapsing_days') }} then 'lapsing'
                    when last_return_at > event_at - interval ({{ insight_num(cu['reactivated_days'], 'insight_lifecycle.customer.reactivated_days') }}) day then 'reactivated'
                    when
                        purchases >= {{ insight_num(cu['advocate']['min_purchases'], 'insight_lifecycle.customer.advocate.min_purchases') }}
                        and recent_engaged_touches >= {{ insight_num(cu['advocate']['min_engaged_touches'], 'insight_lifecycle.customer.advocate.min_engaged_touches') }} then 'advocate'
                    when purchases >= {{ insight_num(cu['repeat_min_purchases'], 'insight_lifecycle.customer.repeat_min_purchases') }} then 'repeat'
                    when customer_since_at > event_at - interval ({{ insight_num(cu['new_days'], 'insight_lifecycle.customer.new_days') }}) day then 'new'
                    else 'active'
                end
        when
            last_deal_created_at > event_at - interval ({{ insight_num(lc['opportunity']['open_deal_days'], 'insight_lifecycle.opportunity.open_deal_days') }}) day
            and (last_deal_closed_at is null or last_deal_closed_at < last_deal_created_at) then 'opportunity'
        when is_sales_ready then 'sql'
        when is_mql then 'mql'
        when engaged_touches >= {{ insight_num(lc['lead']['min_engaged_touches'], 'insight_lifecycle.lead.min_engaged_touches') }} then 'lead'
        else 'subscriber'
    end as lifecycle_stage,
    purchases,
    customer_since_at,
    last_active_at,
    days_since_active,
    last_return_at,
    recent_engaged_touches,
    engaged_touches,
    fit_score,
    engagement_score,
    lead_score,
    is_mql,
    is_sales_ready,
    known_since_at
from flagged
