{#- Helpers that render the insight rules (config/insight.yaml, passed as dbt vars) into SQL from structured
    values only: strings become quoted literals, numbers must be numbers. No SQL text comes from config. -#}

{% macro insight_lit(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro insight_num(value, key) -%}
    {%- if value is number and value is not sameas true and value is not sameas false -%}
        {{ value }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("insight dbt var " ~ key ~ ": expected a number, got '" ~ value ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro insight_in_list(values) -%}
    ({%- for v in values -%}{{ insight_lit(v) }}{{ ", " if not loop.last }}{%- endfor -%}{%- if not values -%}null{%- endif -%})
{%- endmacro %}

{#- true when the normalised text `expr` (lower case, single spaces) contains one of the keywords as whole words -#}
{% macro insight_has_word(expr, keywords) -%}
    {%- if keywords -%}
        ({%- for kw in keywords -%}contains(' ' || coalesce({{ expr }}, '') || ' ', {{ insight_lit(' ' ~ kw ~ ' ') }}){{ " or " if not loop.last }}{%- endfor -%})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- share of the first band whose min `expr` reaches (bands listed from the highest min down); null if none -#}
{% macro insight_band_share(expr, bands, key) -%}
    {%- if bands -%}
        case{% for b in bands %} when {{ expr }} >= {{ insight_num(b['min'], key ~ '.min') }} then {{ insight_num(b['share'], key ~ '.share') }}{% endfor %} end
    {%- else -%}
        cast(null as double)
    {%- endif -%}
{%- endmacro %}
