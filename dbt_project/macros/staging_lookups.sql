{#-
  Small helpers that several staging models (and int_identity_records) share: the seed lookups, the NULL columns a
  raw contract may lack, and one part of a Mailchimp address field. The staging SQL itself is written out in each
  model under models/staging.
-#}

{#- Country lookup: the country_codes seed keyed by the folded alias (one code per key). -#}
{% macro country_lookup_cte() -%}
  select keyed.country_key, min(keyed.country_code) as country_code
  from (select {{ country_key('alias') }} as country_key, country_code from {{ ref('country_codes') }}) as keyed
  group by keyed.country_key
{%- endmacro %}

{#- Nickname lookup: first-name nickname (folded) -> canonical first name. -#}
{% macro nickname_lookup_cte() -%}
  select keyed.nickname, min(keyed.canonical) as canonical
  from (
    select {{ normalise_name('nickname') }} as nickname, {{ normalise_name('canonical') }} as canonical
    from {{ ref('nicknames') }}
  ) as keyed
  group by keyed.nickname
{%- endmacro %}

{#- An empty row set with the given columns (name -> type), to `union all by name` onto a raw table whose contract
    (docs/architecture.md) does not list a column that ingest writes when the file has it (webinar phones and
    separate first / last names): the column is then NULL instead of a binder error. -#}
{% macro optional_columns(columns) -%}
  select
    {%- for name, data_type in columns.items() %} cast(null as {{ data_type }}) as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
  where false
{%- endmacro %}

{#- One part of a Mailchimp address field split on its two-space separator (`parts`: a VARCHAR[] of
    "addr1  [addr2  ]city  state  zip  country"), read from the right so a missing addr2 does not shift the
    rest; street is addr1 and addr2 joined. NULL when the field has fewer than five parts (not this layout). -#}
{% macro mailchimp_address_part(parts, part) -%}
  {%- set from_right = {'country': 1, 'zip': 2, 'state': 3, 'city': 4} -%}
  (case when len({{ parts }}) >= 5 then
    {%- if part == 'street' %} array_to_string(list_slice({{ parts }}, 1, len({{ parts }}) - 4), ' ')
    {%- else %} {{ parts }}[len({{ parts }}) - {{ from_right[part] - 1 }}]
    {%- endif %} end)
{%- endmacro %}
