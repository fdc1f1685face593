{#- The measurement settings of a run: dbt var `measurement` (config/measurement.yaml plus each campaign's objective
    from config/campaigns.yaml, built by pipelines/lib/measurement/config.py). Its default is in the `vars:`
    block of dbt_project.yml, equal to what the shipped files produce (tests/unit/foundation/test_config_reaches_dbt.py
    checks it), so `dbt build` works without vars. -#}
{% macro measurement_settings() -%}
    {{ return(var('measurement')) }}
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
