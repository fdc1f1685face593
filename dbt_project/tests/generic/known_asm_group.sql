{#- Rows whose ASM group id is not one of config/delivery.yaml `asm_groups` (var `subscription_groups`). Used with
    severity warn: such rows are kept (under the id as text) and counted, never silently dropped. -#}
{% test known_asm_group(model, column_name) %}
{%- set ids = var('subscription_groups', {}).values() | list -%}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
{%- if ids %}
  and {{ column_name }} not in ({% for i in ids %}{{ i | int }}{{ ", " if not loop.last }}{% endfor %})
{%- endif %}
{% endtest %}
