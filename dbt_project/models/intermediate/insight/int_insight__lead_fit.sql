{#- Fit (BANT) part of the lead score, per customer, each part with the source that supplied it.
    Rules: var insight_lead_fit (config/insight.yaml lead_scoring: bant_weights, budget, authority, need,
    timeframe). The default below equals the shipped config. -#}
{%- set cfg = var('insight_lead_fit') -%}

{%- set w = cfg['bant_weights'] -%}
{%- set levels = cfg['authority']['levels'] -%}
{%- set need = cfg['need'] -%}
{%- set tf = cfg['timeframe'] -%}

with

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

customers as (
    select * from {{ ref('int_insight__customers') }}
),

touchpoints as (
    select * from {{ ref('int_insight__touchpoints') }}
),

touch_facts as (
    select
        tp.customer_id,
        max(tp.value) filter (where tp.touchpoint_type in ('deal_created', 'deal_won')) as max_deal_amount,
        max(tp.occurred_at) filter (where tp.touchpoint_type = 'deal_created') as last_deal_created_at,
        max(tp.occurred_at) filter (where tp.touchpoint_type in ('deal_won', 'deal_lost')) as last_deal_closed_at,
        max(tp.occurred_at) filter (where tp.touchpoint_type = 'registered') as last_registered_at,
        count(*) filter (where tp.touchpoint_type = 'attended') > 0 as has_attended,
        count(*) filter (where tp.touchpoint_type = 'click') > 0 as has_clicked,
        count(*) filter (
            where tp.touchpoint_type = 'attended' and {{ insight_has_word('tp.webinar_topic', need['webinar_topic_keywords']) }}
        ) > 0 as has_attended_needed_topic
    from touchpoints as tp
    group by tp.customer_id
),

shares as (
    select
        c.customer_id,
        {{ insight_band_share('c.stated_budget', cfg['budget']['stated_budget_bands'], 'budget.stated_budget_bands') }} as stated_budget_share,
        {{ insight_band_share('f.max_deal_amount', cfg['budget']['deal_amount_bands'], 'budget.deal_amount_bands') }} as deal_amount_share,
        {{ insight_band_share('c.employees', cfg['budget']['employees_bands'], 'budget.employees_bands') }} as employees_share,
        case
            {%- for level in levels %}
                when c.seniority_norm in {{ insight_in_list(level['seniority_in']) }} or {{ insight_has_word('c.title_norm', level['title_keywords']) }} then {{ insight_num(level['share'], 'insight_lead_fit.authority.levels.share') }}
            {%- endfor %}
        end as authority_share,
        case
            {%- for level in levels %}
                when c.seniority_norm in {{ insight_in_list(level['seniority_in']) }} then 'seniority'
                when {{ insight_has_word('c.title_norm', level['title_keywords']) }} then 'title'
            {%- endfor %}
            else 'none'
        end as authority_source,
        case
            when c.product_interest is not null then {{ insight_num(need['product_interest_share'], 'insight_lead_fit.need.product_interest_share') }}
            when coalesce(f.has_attended_needed_topic, false) then {{ insight_num(need['webinar_topic_share'], 'insight_lead_fit.need.webinar_topic_share') }}
            when coalesce(f.has_attended, false) then {{ insight_num(need['webinar_attended_share'], 'insight_lead_fit.need.webinar_attended_share') }}
            when coalesce(f.has_clicked, false) then {{ insight_num(need['clicked_share'], 'insight_lead_fit.need.clicked_share') }}
            else 0
        end as need_share,
        case
            when c.product_interest is not null then 'product_interest'
            when coalesce(f.has_attended_needed_topic, false) then 'webinar_topic'
            when coalesce(f.has_attended, false) then 'webinar_attendance'
            when coalesce(f.has_clicked, false) then 'email_click'
            else 'none'
        end as need_source,
        {%- set open_deal -%}
            (f.last_deal_created_at > as_of.as_of_at - interval ({{ insight_num(tf['open_deal_days'], 'insight_lead_fit.timeframe.open_deal_days') }}) day
             and (f.last_deal_closed_at is null or f.last_deal_closed_at < f.last_deal_created_at))
        {%- endset %}
        {%- set registered_recently -%}
            (f.last_registered_at > as_of.as_of_at - interval ({{ insight_num(tf['registered_days'], 'insight_lead_fit.timeframe.registered_days') }}) day)
        {%- endset %}
        case
            {%- for level in tf['stated_levels'] %}
                when {{ insight_has_word('c.purchase_timeframe_norm', level['keywords']) }} then {{ insight_num(level['share'], 'insight_lead_fit.timeframe.stated_levels.share') }}
            {%- endfor %}
            when {{ open_deal }} then {{ insight_num(tf['open_deal_share'], 'insight_lead_fit.timeframe.open_deal_share') }}
            when {{ registered_recently }} then {{ insight_num(tf['registered_share'], 'insight_lead_fit.timeframe.registered_share') }}
            else 0
        end as timeframe_share,
        case
            {%- for level in tf['stated_levels'] %}
                when {{ insight_has_word('c.purchase_timeframe_norm', level['keywords']) }} then 'purchase_timeframe'
            {%- endfor %}
            when {{ open_deal }} then 'open_deal'
            when {{ registered_recently }} then 'webinar_registration'
            else 'none'
        end as timeframe_source
    from customers as c
    cross join as_of
    left join touch_facts as f on c.customer_id = f.customer_id
),

parts as (
    select
        customer_id,
        round({{ insight_num(w['budget'], 'insight_lead_fit.bant_weights.budget') }} * coalesce(stated_budget_share, deal_amount_share, employees_share, 0), 2) as budget_score,
        case
            when stated_budget_share is not null then 'stated_budget'
            when deal_amount_share is not null then 'deal_amount'
            when employees_share is not null then 'company_size'
            else 'none'
        end as budget_source,
        round({{ insight_num(w['authority'], 'insight_lead_fit.bant_weights.authority') }} * coalesce(authority_share, 0), 2) as authority_score,
        authority_source,
        round({{ insight_num(w['need'], 'insight_lead_fit.bant_weights.need') }} * need_share, 2) as need_score,
        need_source,
        round({{ insight_num(w['timeframe'], 'insight_lead_fit.bant_weights.timeframe') }} * timeframe_share, 2) as timeframe_score,
        timeframe_source
    from shares
)

select
    customer_id,
    budget_score,
    budget_source,
    authority_score,
    authority_source,
    need_score,
    need_source,
    timeframe_score,
    timeframe_source,
    round(budget_score + authority_score + need_score + timeframe_score, 2) as fit_score
from parts
