{#- The measurement settings of a run: dbt var `measurement` (config/measurement.yaml plus each campaign's objective
    from config/campaigns.yaml, built by pipelines/lib/measurement/config.py). The default equals what the shipped
    files produce (tests/unit/measurement/test_config.py checks it), so `dbt build` works without vars. -#}
{% macro measurement_settings() -%}
    {{ return(var('measurement', {"windows": {"acquisition": 60, "conversion": 60, "retention": 90, "reactivation": 30, "frequency": 30, "spend": 30, "advocacy": 60}, "active_touch_types": ["open", "click", "registered", "attended", "deal_created", "deal_won"], "purchase_touch_types": ["deal_won"], "still_active_days": 30, "frequency_min_touches": 2, "advocacy_moments": ["high_engagement"], "campaign_objectives": {"cross_sell_active": "spend", "lead_nurture": "conversion", "mql_sales_handoff": "conversion", "order_confirmation": "spend", "reactivation_lapsed": "reactivation", "webinar_follow_up": "conversion", "webinar_invite": "acquisition", "welcome_new_lead": "acquisition"}})) }}
{%- endmacro %}

{#- A VALUES list of (campaign_id, objective, window_days) for the configured campaigns. -#}
{% macro measurement_campaigns_sql() -%}
    {%- set m = measurement_settings() -%}
    {%- set rows = [] -%}
    {%- for cid, objective in m['campaign_objectives'].items() -%}
        {%- do rows.append("(" ~ insight_lit(cid) ~ ", " ~ insight_lit(objective) ~ ", " ~ insight_num(m['windows'][objective], 'measurement.windows.' ~ objective) ~ ")") -%}
    {%- endfor -%}
    {%- if rows -%}
        select * from (values {{ rows | join(', ') }}) as t (campaign_id, objective, window_days)
    {%- else -%}
        select null::varchar as campaign_id, null::varchar as objective, null::integer as window_days where false
    {%- endif -%}
{%- endmacro %}
