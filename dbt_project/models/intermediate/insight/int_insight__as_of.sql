{#- The as-of time of the run (dbt var `as_of`, 'YYYY-MM-DD HH:MM:SS' UTC; now when null): one row every
    insight model joins, so history can be recomputed as of any time and unit tests can fix the clock. -#}
{%- set as_of = var('as_of', none) -%}
{%- if as_of -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?$', as_of | string) -%}
        {{ exceptions.raise_compiler_error("dbt var as_of: expected 'YYYY-MM-DD HH:MM:SS' (UTC), got '" ~ as_of ~ "'") }}
    {%- endif -%}
    {%- set as_of_sql = "cast('" ~ as_of ~ "' as timestamp)" -%}
{%- else -%}
    {%- set as_of_sql = "date_trunc('second', cast(timezone('UTC', current_timestamp) as timestamp))" -%}
{%- endif -%}

select
    {{ as_of_sql }} as as_of_at,
    cast({{ as_of_sql }} as date) as as_of_date
