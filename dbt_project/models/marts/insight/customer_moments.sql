{#- Moments of truth (var insight_moments, config/insight.yaml moments): trigger events with the customer,
    the moment, its time and evidence (JSON text). The contact-rules engine uses them as triggers.
    The default below equals the shipped config. -#}
{%- set cfg = var('insight_moments') -%}
{%- set he = cfg['high_engagement'] -%}

with

touchpoints as (
    select * from {{ ref('int_insight__touchpoints') }}
),

timeline as (
    select * from {{ ref('int_insight__stage_timeline') }}
),

moments as (
    select
        customer_id,
        'first_webinar_attended' as moment,
        occurred_at,
        json_object('touchpoint_id', touchpoint_id, 'campaign_id', campaign_id, 'minutes', value) as evidence
    from touchpoints
    where
        {{ 'true' if cfg['first_webinar_attended']['enabled'] else 'false' }}
        and touchpoint_type = 'attended'
        and coalesce(value, 0) >= {{ insight_num(cfg['first_webinar_attended']['min_minutes'], 'insight_moments.first_webinar_attended.min_minutes') }}
    qualify row_number() over (partition by customer_id order by occurred_at, touchpoint_id) = 1

    union all

    select
        customer_id,
        'became_mql' as moment,
        event_at as occurred_at,
        json_object('lead_score', lead_score, 'fit_score', fit_score, 'engagement_score', engagement_score) as evidence
    from timeline
    where {{ 'true' if cfg['became_mql']['enabled'] else 'false' }} and is_mql
    qualify row_number() over (partition by customer_id order by event_at, is_snapshot) = 1

    union all

    select
        customer_id,
        'first_purchase' as moment,
        event_at as occurred_at,
        json_object('purchases', purchases) as evidence
    from timeline
    where {{ 'true' if cfg['first_purchase']['enabled'] else 'false' }} and not is_snapshot and purchases >= 1
    qualify row_number() over (partition by customer_id order by event_at) = 1

    union all

    select
        customer_id,
        'started_lapsing' as moment,
        event_at as occurred_at,
        json_object('days_since_active', days_since_active) as evidence
    from timeline
    where {{ 'true' if cfg['started_lapsing']['enabled'] else 'false' }} and touchpoint_type = '_started_lapsing'

    union all

    select
        customer_id,
        'returned_after_lapsing' as moment,
        event_at as occurred_at,
        json_object('days_since_active', days_since_active) as evidence
    from timeline
    where {{ 'true' if cfg['returned_after_lapsing']['enabled'] else 'false' }} and touchpoint_type = '_returned_after_lapsing'

    union all

    -- a week with at least min_touches engaged touches and baseline_multiple times the customer's average
    -- weekly count over their other active weeks
    select
        customer_id,
        'high_engagement' as moment,
        week_last_at as occurred_at,
        json_object('week', cast(week_start as date), 'touches', touches, 'baseline', round(baseline, 2)) as evidence
    from (
        select
            *,
            coalesce(
                (sum(touches) over (partition by customer_id) - touches)
                / nullif(count(*) over (partition by customer_id) - 1, 0), 0
            ) as baseline
        from (
            select
                customer_id,
                date_trunc('week', occurred_at) as week_start,
                count(*) as touches,
                max(occurred_at) as week_last_at
            from touchpoints
            where touchpoint_type in {{ insight_in_list(he['touch_types']) }}
            group by 1, 2
        )
    )
    where
        {{ 'true' if he['enabled'] else 'false' }}
        and touches >= {{ insight_num(he['min_touches'], 'insight_moments.high_engagement.min_touches') }}
        and touches >= {{ insight_num(he['baseline_multiple'], 'insight_moments.high_engagement.baseline_multiple') }} * baseline
)

select
    md5(customer_id || '|' || moment || '|' || cast(occurred_at as varchar)) as moment_id,
    customer_id,
    moment,
    occurred_at,
    cast(evidence as varchar) as evidence
from moments
