{#- The single customer view's attributes the insight rules read. The optional CRM fields product_interest,
    purchase_timeframe and budget are used when dim_customers has them (else null). Titles, seniority,
    industry and stated timeframes are normalised (lower case, single spaces) for keyword matching. -#}
{%- set optional = {'product_interest': 'null', 'purchase_timeframe': 'null', 'budget': 'null'} -%}
{%- if execute -%}
    {%- set columns = adapter.get_columns_in_relation(ref('dim_customers')) | map(attribute='name') | map('lower') | list -%}
    {%- for name in optional -%}
        {%- if name in columns -%}{%- do optional.update({name: 'c.' ~ name}) -%}{%- endif -%}
    {%- endfor -%}
{%- endif -%}

with

customers as (
    select * from {{ ref('dim_customers') }}
)

select
    c.customer_id,
    c.title,
    trim(regexp_replace(lower(coalesce(c.title, '')), '[^a-z0-9]+', ' ', 'g')) as title_norm,
    trim(regexp_replace(lower(coalesce(c.seniority, '')), '[^a-z0-9]+', ' ', 'g')) as seniority_norm,
    trim(regexp_replace(lower(coalesce(c.industry, '')), '[^a-z0-9]+', ' ', 'g')) as industry_norm,
    c.employees,
    coalesce(c.is_customer, false) as is_customer,
    nullif(trim(cast({{ optional['product_interest'] }} as varchar)), '') as product_interest,
    trim(regexp_replace(lower(coalesce(cast({{ optional['purchase_timeframe'] }} as varchar), '')), '[^a-z0-9]+', ' ', 'g')) as purchase_timeframe_norm,
    cast({{ optional['budget'] }} as double) as stated_budget,
    c.first_seen_at
from customers as c
