{#- A model's simple column rules checked in one query (one dbt node and one scan instead of one per rule).

    rules: {column: {rule: argument, ...}, ...} with the rules
      not_null: true                    the column is never null
      accepted_values: [a, b, ...]      non-null values are among these (compared as text, as dbt's accepted_values)
      between: [min, max]               non-null values lie in [min, max] (was insight_value_between)
      non_negative: true                non-null values are >= 0 (was measurement_non_negative)

    Returns one row per broken rule: the column, the rule (with its argument) and how many rows break it, so a
    failure names what failed (pipelines/defs/transform/dbt.py puts those rows in the step's one-line error). -#}
{% test column_rules(model, rules) %}
{%- set checks = [] -%}
{%- for column, column_rules in rules.items() -%}
    {%- if column_rules is not mapping or not column_rules -%}
        {{ exceptions.raise_compiler_error("column_rules: the rules of column '" ~ column ~ "' must be a non-empty mapping (rule: argument), got " ~ column_rules) }}
    {%- endif -%}
    {%- for rule, argument in column_rules.items() -%}
        {%- if rule == 'not_null' and argument is sameas true -%}
            {%- do checks.append((column, 'not_null', column ~ ' is null')) -%}
        {%- elif rule == 'non_negative' and argument is sameas true -%}
            {%- do checks.append((column, 'non_negative', column ~ ' < 0')) -%}
        {%- elif rule == 'accepted_values' and argument is iterable and argument is not string and argument | length > 0 -%}
            {%- set quoted = [] -%}
            {%- for value in argument -%}{%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}{%- endfor -%}
            {%- do checks.append((column, 'accepted_values [' ~ (argument | join(', ')) ~ ']', column ~ ' not in (' ~ (quoted | join(', ')) ~ ')')) -%}
        {%- elif rule == 'between' and argument is iterable and argument is not string and argument | length == 2 -%}
            {%- do checks.append((column, 'between [' ~ argument[0] ~ ', ' ~ argument[1] ~ ']', column ~ ' < ' ~ argument[0] ~ ' or ' ~ column ~ ' > ' ~ argument[1])) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("column_rules: column '" ~ column ~ "': unknown rule or bad argument '" ~ rule ~ ": " ~ argument ~ "' (known: not_null: true, non_negative: true, accepted_values: [..], between: [min, max])") }}
        {%- endif -%}
    {%- endfor -%}
{%- endfor %}
with counts as (
    select
    {%- for column, rule, condition in checks %}
        count(*) filter (where {{ condition }}) as rule_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
),

broken as (
    {%- for column, rule, condition in checks %}
    select '{{ column }}' as column_name, '{{ rule | replace("'", "''") }}' as rule, rule_{{ loop.index }} as failing_rows
    from counts
    {{ "union all" if not loop.last }}
    {%- endfor %}
)

select column_name, rule, failing_rows
from broken
where failing_rows > 0
{% endtest %}
