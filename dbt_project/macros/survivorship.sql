{#- Golden-record survivorship (dim_customers). The rules come from config/survivorship.yaml through the dbt var
    `survivorship` (pipelines/lib/config/survivorship.py); the default below is used when no var is passed. -#}

{% macro survivorship_config() -%}
  {{ return(var('survivorship', {
      'default': {'rule': 'source_priority',
                  'sources': ['salesforce', 'hubspot', 'dynamics', 'zoho', 'custom', 'mailchimp', 'zoom', 'teams',
                              'sendgrid']},
      'attributes': {}
  })) }}
{%- endmacro %}

{#- The ORDER BY of one attribute's candidate records: live records first, then the attribute's rule, then ties
    broken by source priority, recency and record key so the choice is deterministic. -#}
{% macro survivorship_order(attribute, prefer=none) -%}
  {%- set cfg = survivorship_config() -%}
  {%- set default = cfg.get('default', {}) -%}
  {%- set rule_cfg = (cfg.get('attributes') or {}).get(attribute) or default -%}
  {%- set rule = rule_cfg.get('rule') or default.get('rule', 'source_priority') -%}
  {%- set sources = rule_cfg.get('sources') or default.get('sources') or [] -%}
  {%- set priority -%}
    coalesce(list_position([{% for s in sources %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %}]::varchar[], source_system), 999)
  {%- endset -%}
  {%- set is_deleted = 'is_deleted, ' ~ (prefer ~ ', ' if prefer else '') -%}
  {%- if rule == 'source_priority' -%}
    {{ is_deleted }} {{ priority }}, updated_at desc nulls last, record_key
  {%- elif rule == 'most_recent' -%}
    {{ is_deleted }} updated_at desc nulls last, {{ priority }}, record_key
  {%- elif rule == 'most_complete' -%}
    {{ is_deleted }} completeness desc, updated_at desc nulls last, {{ priority }}, record_key
  {%- else -%}
    {{ exceptions.raise_compiler_error("survivorship: attribute '" ~ attribute ~ "' has unknown rule '" ~ rule ~ "' (expected source_priority, most_recent or most_complete)") }}
  {%- endif -%}
{%- endmacro %}

{#- `<attribute>` and `<attribute>_source` chosen for one attribute, as aggregate expressions. `prefer` is an
    ORDER BY term applied before the rule (e.g. names with both parts before partial names). -#}
{% macro survive(attribute, column=none, prefer=none) -%}
  {%- set col = column or attribute -%}
  first({{ col }} order by {{ survivorship_order(attribute, prefer) }}) filter (where {{ col }} is not null) as {{ attribute }},
  first(record_ref order by {{ survivorship_order(attribute, prefer) }}) filter (where {{ col }} is not null) as {{ attribute }}_source
{%- endmacro %}
