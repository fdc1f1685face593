{#- The touchpoint timeline up to the as-of time, in the shape every insight model reads.
    `webinar_topic` is taken from fct_touchpoints when that table has such a column (else null); the topic
    text is normalised (lower case, words separated by single spaces) for keyword matching. -#}
{%- set topic_sql = 'null' -%}
{%- if execute -%}
    {%- set columns = adapter.get_columns_in_relation(ref('fct_touchpoints')) | map(attribute='name') | map('lower') | list -%}
    {%- if 'webinar_topic' in columns -%}{%- set topic_sql = 'tp.webinar_topic' -%}{%- endif -%}
{%- endif -%}

with

as_of as (
    select as_of_at from {{ ref('int_insight__as_of') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
)

select
    tp.touchpoint_id,
    tp.customer_id,
    tp.channel,
    tp.touchpoint_type,
    coalesce(tp.is_marketing_contact, false) as is_marketing_contact,
    tp.campaign_id,
    cast(tp.value as double) as value,
    trim(regexp_replace(lower(cast({{ topic_sql }} as varchar)), '[^a-z0-9]+', ' ', 'g')) as webinar_topic,
    tp.occurred_at
from touchpoints as tp
cross join as_of
where
    tp.customer_id is not null
    and tp.occurred_at is not null
    and tp.occurred_at <= as_of.as_of_at
