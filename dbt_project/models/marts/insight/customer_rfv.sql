{#- Recency, frequency, value as of the run; 1-5 scores by quantile (percent rank among customers with
    activity, ties share a score; no activity scores 1);
    segments from boxes on the recency score and the frequency-value score. Rules: var insight_rfv
    (config/insight.yaml rfv); the default below equals the shipped config. -#}
{%- set cfg = var('insight_rfv') -%}

{#- Each segment's score boxes as SQL, one list per segment (rendered below one per line, any of them). -#}
{%- set segment_boxes = [] -%}
{%- for segment in cfg['segments'] -%}
    {%- set boxes = [] -%}
    {%- for box in segment['when'] -%}
        {%- do boxes.append(
            '(r_score between ' ~ insight_num(box['recency'][0], 'insight_rfv.segments.when.recency')
            ~ ' and ' ~ insight_num(box['recency'][1], 'insight_rfv.segments.when.recency')
            ~ ' and fv_score between ' ~ insight_num(box['frequency_value'][0], 'insight_rfv.segments.when.frequency_value')
            ~ ' and ' ~ insight_num(box['frequency_value'][1], 'insight_rfv.segments.when.frequency_value') ~ ')'
        ) -%}
    {%- endfor -%}
    {%- do segment_boxes.append(boxes) -%}
{%- endfor %}

with

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

customers as (
    select customer_id from {{ ref('int_insight__customers') }}
),

touchpoints as (
    select * from {{ ref('int_insight__touchpoints') }}
),

measures as (
    select
        c.customer_id,
        date_diff('day', max(t.occurred_at) filter (where t.touchpoint_type in {{ insight_in_list(cfg['activity_touch_types']) }}), as_of.as_of_at) as recency_days,
        count(t.touchpoint_id) filter (
            where t.touchpoint_type in {{ insight_in_list(cfg['activity_touch_types']) }}
            and t.occurred_at > as_of.as_of_at - interval ({{ insight_num(cfg['window_days'], 'insight_rfv.window_days') }}) day
        ) as frequency,
        coalesce(sum(t.value) filter (
            where t.touchpoint_type in {{ insight_in_list(cfg['revenue_touch_types']) }}
            and t.occurred_at > as_of.as_of_at - interval ({{ insight_num(cfg['window_days'], 'insight_rfv.window_days') }}) day
        ), 0) as revenue,
        coalesce(sum(
            case t.touchpoint_type
                {%- for touch_type, points in cfg['engagement_points'].items() %}
                    when {{ insight_lit(touch_type) }} then {{ insight_num(points, 'insight_rfv.engagement_points') }}
                {%- endfor %}
                else 0
            end
        ) filter (where t.occurred_at > as_of.as_of_at - interval ({{ insight_num(cfg['window_days'], 'insight_rfv.window_days') }}) day), 0) as engagement_value,
        any_value(as_of.as_of_at) as as_of_at
    from customers as c
    cross join as_of
    left join touchpoints as t on c.customer_id = t.customer_id
    group by c.customer_id, as_of.as_of_at
),

valued as (
    select
        *,
        case when revenue > 0 then revenue else engagement_value end as value,
        case when revenue > 0 then 'revenue' when engagement_value > 0 then 'engagement' else 'none' end as value_source,
        -- revenue customers rank above engagement-only ones on value
        case when revenue > 0 then 1 else 0 end as has_revenue
    from measures
),

scored as (
    -- quantiles among customers with activity (recency known, frequency > 0, value > 0); the others score 1
    select
        *,
        case
            when recency_days is null then 1
            else least(5, 1 + floor(5 * percent_rank() over (partition by recency_days is null order by recency_days desc)))
        end::integer as r_score,
        case
            when frequency = 0 then 1
            else least(5, 1 + floor(5 * percent_rank() over (partition by frequency = 0 order by frequency)))
        end::integer as f_score,
        case
            when value = 0 then 1
            else least(5, 1 + floor(5 * percent_rank() over (partition by value = 0 order by has_revenue, value)))
        end::integer as v_score
    from valued
),

segmented as (
    select
        *,
        floor((f_score + v_score) / 2.0 + 0.5)::integer as fv_score
    from scored
)

select
    customer_id,
    recency_days,
    frequency,
    value,
    value_source,
    revenue,
    engagement_value,
    r_score,
    f_score,
    v_score,
    fv_score,
    case
        {%- for segment in cfg['segments'] %}
            when
                {{ segment_boxes[loop.index0] | join('\n                or ') }}
                then {{ insight_lit(segment['name']) }}
        {%- endfor %}
        else 'unsegmented'
    end as rfv_segment,
    as_of_at
from segmented
