{#- Subscription groups: config/delivery.yaml `asm_groups` (name -> SendGrid ASM group id) arrives as the var
    `subscription_groups`; customer_consent, the plan and the sender all use the NAME. -#}

{#- The group name of an ASM group id expression: the configured name, else the id as text (an unknown group is
    kept, not dropped; the known_asm_group warning test counts it). -#}
{% macro subscription_group_name(asm_id) -%}
  {%- set groups = var('subscription_groups', {}) -%}
  {%- if groups -%}
    case try_cast({{ asm_id }} as integer)
      {%- for name, group_id in groups.items() %} when {{ group_id | int }} then '{{ name }}'{% endfor %}
      else cast(try_cast({{ asm_id }} as integer) as varchar)
    end
  {%- else -%}
    cast(try_cast({{ asm_id }} as integer) as varchar)
  {%- endif -%}
{%- endmacro %}

{#- A group as the plan or a config names it (a name, or an ASM id written as digits) -> its name. -#}
{% macro subscription_group_of(value) -%}
  case when regexp_full_match(trim({{ value }}), '[0-9]+') then {{ subscription_group_name(value) }}
    else nullif(trim({{ value }}), '') end
{%- endmacro %}

{#- The vocabulary as a row set (subscription_group): `marketing` (all marketing, the default) and every configured
    group. -#}
{% macro subscription_group_vocabulary() -%}
  {%- set names = ['marketing'] -%}
  {%- for name in var('subscription_groups', {}).keys() -%}
    {%- if name not in names -%}{%- do names.append(name) -%}{%- endif -%}
  {%- endfor -%}
  select * from (values {% for name in names %}('{{ name }}'){{ ", " if not loop.last }}{% endfor %})
    as vocabulary (subscription_group)
{%- endmacro %}

{#- A table written outside dbt (by a later pipeline step of an earlier run: send_ledger, contact_plan), read when
    it exists. It is not a dbt source on purpose: those steps run after the marts in Dagster, so a source would make
    a cycle; the first run has no such table and reads `empty` instead. -#}
{% macro table_if_exists(identifier, empty) -%}
  {%- set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier=identifier)
      if execute else none -%}
  {%- if relation is not none -%}{{ relation }}{%- else -%}({{ empty }}){%- endif -%}
{%- endmacro %}
