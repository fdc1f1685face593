{#- Personas by ordered rules (var insight_personas, config/insight.yaml personas): the first rule whose
    conditions all hold wins; else 'unassigned'. The default below equals the shipped config. -#}
{%- set rules = var('insight_personas') -%}
{%- set known_fields = ['persona', 'rule', 'title_keywords', 'seniority_in', 'industry_in', 'employees_min', 'employees_max', 'min_webinars_attended', 'min_email_clicks', 'preferred_channel', 'webinar_topic_keywords'] -%}

{#- Each rule's conditions as SQL, one list per rule: `true` and each condition the rule sets (rendered below one
    per line, all of them must hold). -#}
{%- set rule_conditions = [] -%}
{%- for r in rules -%}
    {%- for field in r %}{% if field not in known_fields %}{{ exceptions.raise_compiler_error("insight dbt var insight_personas[" ~ loop.index0 ~ "]: unknown field '" ~ field ~ "'") }}{% endif %}{% endfor -%}
    {%- set conditions = ['true'] -%}
    {%- if r.get('title_keywords') %}{% do conditions.append(insight_has_word('title_norm', r['title_keywords'])) %}{% endif -%}
    {%- if r.get('seniority_in') %}{% do conditions.append('seniority_norm in ' ~ insight_in_list(r['seniority_in'])) %}{% endif -%}
    {%- if r.get('industry_in') %}{% do conditions.append('industry_norm in ' ~ insight_in_list(r['industry_in'])) %}{% endif -%}
    {%- if r.get('employees_min') is not none %}{% do conditions.append('employees >= ' ~ insight_num(r['employees_min'], 'insight_personas.employees_min')) %}{% endif -%}
    {%- if r.get('employees_max') is not none %}{% do conditions.append('employees <= ' ~ insight_num(r['employees_max'], 'insight_personas.employees_max')) %}{% endif -%}
    {%- if r.get('min_webinars_attended') is not none %}{% do conditions.append('webinars_attended >= ' ~ insight_num(r['min_webinars_attended'], 'insight_personas.min_webinars_attended')) %}{% endif -%}
    {%- if r.get('min_email_clicks') is not none %}{% do conditions.append('email_clicks >= ' ~ insight_num(r['min_email_clicks'], 'insight_personas.min_email_clicks')) %}{% endif -%}
    {%- if r.get('preferred_channel') %}{% do conditions.append('preferred_channel = ' ~ insight_lit(r['preferred_channel'])) %}{% endif -%}
    {%- if r.get('webinar_topic_keywords') %}{% do conditions.append(insight_has_word('webinar_topics', r['webinar_topic_keywords'])) %}{% endif -%}
    {%- do rule_conditions.append(conditions) -%}
{%- endfor %}

with

customers as (
    select * from {{ ref('int_insight__customers') }}
),

behaviour as (
    select
        customer_id,
        count(*) filter (where touchpoint_type = 'attended') as webinars_attended,
        count(*) filter (where touchpoint_type = 'click') as email_clicks,
        count(*) filter (where channel = 'webinar' and touchpoint_type in ('attended', 'registered')) as webinar_interactions,
        count(*) filter (where channel = 'email' and touchpoint_type in ('open', 'click')) as email_interactions,
        ' ' || string_agg(distinct webinar_topic, ' | ') filter (where touchpoint_type = 'attended') || ' ' as webinar_topics
    from {{ ref('int_insight__touchpoints') }}
    group by customer_id
),

facts as (
    select
        c.*,
        coalesce(b.webinars_attended, 0) as webinars_attended,
        coalesce(b.email_clicks, 0) as email_clicks,
        case
            when coalesce(b.webinar_interactions, 0) = 0 and coalesce(b.email_interactions, 0) = 0 then null
            when coalesce(b.webinar_interactions, 0) >= coalesce(b.email_interactions, 0) then 'webinar'
            else 'email'
        end as preferred_channel,
        b.webinar_topics
    from customers as c
    left join behaviour as b on c.customer_id = b.customer_id
),

matched as (
    select
        customer_id,
        case
            {%- for r in rules %}
                when
                    {{ rule_conditions[loop.index0] | join('\n                    and ') }}
                    then {{ insight_lit(r['rule']) }}
            {%- endfor %}
        end as matched_rule,
        webinars_attended,
        email_clicks,
        preferred_channel
    from facts
)

select
    customer_id,
    case matched_rule
        {%- for r in rules %}
            when {{ insight_lit(r['rule']) }} then {{ insight_lit(r['persona']) }}
        {%- endfor %}
        else 'unassigned'
    end as persona,
    matched_rule,
    webinars_attended,
    email_clicks,
    preferred_channel
from matched
