{#-
  Normalisation used by staging (issue #4). Each macro returns a SQL expression; the behaviour is pinned by the
  unit tests in models/staging/**/*.yml (dbt `unit_tests:`).
-#}

{#- Email: trim + lower; NULL when empty or not a valid address by var `email_pattern` (dbt_project.yml: the one email
    rule, which the Great Expectations suites read too, pipelines/lib/quality/build_suites.py). Gmail rules (dots and
    +tags dropped in the local part, googlemail.com -> gmail.com) only when var `email_provider_rules` is true
    (default false). -#}
{% macro normalise_email(column) -%}
  {%- set cleaned = "nullif(lower(trim(" ~ column ~ ")), '')" -%}
  {%- set pattern = var('email_pattern') -%}
  {%- if var('email_provider_rules', false) -%}
  (case
     when not regexp_full_match({{ cleaned }}, '{{ pattern }}') then null
     when split_part({{ cleaned }}, '@', 2) in ('gmail.com', 'googlemail.com')
       then replace(split_part(split_part({{ cleaned }}, '@', 1), '+', 1), '.', '') || '@gmail.com'
     else {{ cleaned }}
   end)
  {%- else -%}
  (case when regexp_full_match({{ cleaned }}, '{{ pattern }}') then {{ cleaned }} end)
  {%- endif -%}
{%- endmacro %}

{% macro email_domain(normalised_email) -%}
  nullif(split_part({{ normalised_email }}, '@', 2), '')
{%- endmacro %}

{#- The default phone region of the row's source system (a SQL expression naming the source_system column):
    var `phone_default_regions` (a mapping source -> ISO alpha-2: each source's `default_phone_region` in
    config/sources.yaml, passed by collect_dbt_vars), else var `phone_default_region` ('US', dbt_project.yml). -#}
{% macro phone_region(source_system_column) -%}
  {%- set regions = var('phone_default_regions') -%}
  {%- set fallback = var('phone_default_region') | upper -%}
  {%- if regions -%}
  (case {{ source_system_column }}
    {%- for system, region in regions.items() %} when '{{ system }}' then '{{ region | upper }}'{% endfor %}
    else '{{ fallback }}' end)
  {%- else -%}
  '{{ fallback }}'
  {%- endif -%}
{%- endmacro %}

{#- Phone in E.164 (phonenumbers library via the phone_e164 UDF of pipelines.lib.dbt_plugins.phone_numbers).
    `region` is a SQL expression; a country code column can be passed to override the source default. -#}
{% macro normalise_phone(column, region) -%}
  phone_e164(nullif(trim({{ column }}), ''), {{ region }})
{%- endmacro %}

{#- Text folded for comparison: NFC, lower-case, accents stripped, letters outside Latin-1 that strip_accents keeps
    mapped to ASCII, punctuation removed (hyphens become spaces, apostrophes vanish), spaces collapsed. -#}
{% macro fold_text(column) -%}
  nullif(trim(regexp_replace(regexp_replace(regexp_replace(
    replace(replace(replace(replace(replace(replace(replace(
      strip_accents(lower(nfc_normalize(trim({{ column }})))),
      'ß', 'ss'), 'ø', 'o'), 'æ', 'ae'), 'œ', 'oe'), 'ł', 'l'), 'đ', 'd'), 'þ', 'th'),
    '[''’`´]', '', 'g'),
    '[^\p{L}\p{N} ]', ' ', 'g'),
    '\s+', ' ', 'g')), '')
{%- endmacro %}

{% macro normalise_name(column) -%}
  {{ fold_text(column) }}
{%- endmacro %}

{#- Company name without legal form: folded, then trailing legal suffixes (and a leading "the") removed.
    Dots are removed before folding so S.A. / N.V. / Co. match. The list is fixed here (it was the dbt var
    `company_legal_suffixes`, which no config file ever set): a change changes identity matching for everyone. -#}
{% macro normalise_company(column) -%}
  {%- set suffixes = [
      'incorporated', 'inc', 'corporation', 'corp', 'company', 'co', 'limited', 'ltd', 'llc', 'llp', 'lp', 'plc',
      'gmbh', 'mbh', 'ag', 'kg', 'kgaa', 'ug', 'se', 'sa', 'sas', 'sarl', 'sasu', 'spa', 'srl', 'sl', 'bv', 'nv',
      'oy', 'oyj', 'ab', 'as', 'asa', 'aps', 'pty', 'pte', 'pvt', 'kk', 'sp z oo', 'spzoo', 'holding', 'holdings',
      'group', 'and'] -%}
  {%- set pattern = '(\s(' ~ (suffixes | join('|')) ~ '))+$' -%}
  nullif(trim(regexp_replace(regexp_replace(
    ' ' || {{ fold_text("replace(replace(" ~ column ~ ", '.', ''), '&', ' and ')") }},
    '{{ pattern }}', ''), '^\s*the\s', '')), '')
{%- endmacro %}

{#- Key used to look a country up in the country_codes seed (names in several languages, aliases, alpha-2/3). -#}
{% macro country_key(column) -%}
  {{ fold_text("replace(" ~ column ~ ", '.', '')") }}
{%- endmacro %}

{#- Street, folded, common words abbreviated so "Main Street" = "Main St." -#}
{% macro normalise_street(column) -%}
  nullif(trim(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
      ' ' || {{ fold_text(column) }} || ' ',
      ' street ', ' st ', 'g'), ' avenue ', ' ave ', 'g'), ' road ', ' rd ', 'g'), ' boulevard ', ' blvd ', 'g'),
      ' drive ', ' dr ', 'g'), ' (strasse|str) ', ' str ', 'g')), '')
{%- endmacro %}

{% macro normalise_postal_code(column) -%}
  nullif(regexp_replace(upper(trim({{ column }})), '[^A-Z0-9]', '', 'g'), '')
{%- endmacro %}

{#- Seniority bucket from a job title (c_level, vp, director, manager, individual; NULL without a title). -#}
{% macro seniority_from_title(title) -%}
  (case
     when nullif(trim({{ title }}), '') is null then null
     when regexp_matches(lower({{ title }}), '(^|[^a-z])(ceo|cfo|cto|coo|cmo|cio|cro|cpo|ciso|chief|president|founder|co-founder|owner|managing director|geschaftsfuhrer|geschäftsführer)([^a-z]|$)') then 'c_level'
     when regexp_matches(lower({{ title }}), '(^|[^a-z])(vp|svp|evp|avp|vice president|head of)([^a-z]|$)') then 'vp'
     when regexp_matches(lower({{ title }}), '(^|[^a-z])(director|directeur|direktor)([^a-z]|$)') then 'director'
     when regexp_matches(lower({{ title }}), '(^|[^a-z])(manager|lead|supervisor|leiter|responsable)([^a-z]|$)') then 'manager'
     else 'individual'
   end)
{%- endmacro %}

{#- A timestamp column cast to TIMESTAMP (UTC by the ingestion contract). -#}
{% macro as_utc_timestamp(column) -%}
  try_cast({{ column }} as timestamp)
{%- endmacro %}

{#- Webinar reports give one name field. Zoom writes "User Name (Original Name)" when the attendee renamed
    themselves in the meeting: the display name (often a nickname or a device name) comes first, the name they
    registered with follows in the trailing parentheses. A parenthesised pronoun ("(she/her)") is not a name. -#}
{% macro webinar_display_name(column) -%}
  nullif(trim(regexp_replace(regexp_replace({{ column }}, '\s*\(([^()]*)\)\s*$', ''), '\s+', ' ', 'g')), '')
{%- endmacro %}

{% macro webinar_original_name(column) -%}
  {%- set pronoun = '(he|him|his|she|her|hers|they|them|their|theirs|ze|zir|xe|xem|any|all|pronouns)' -%}
  {%- set inner = "trim(regexp_replace(regexp_extract(" ~ column ~ ", '\\(([^()]*)\\)\\s*$', 1), '\\s+', ' ', 'g'))" -%}
  (case
     when regexp_full_match(lower({{ inner }}), '{{ pronoun }}(\s*/\s*{{ pronoun }})*') then null
     when regexp_matches({{ inner }}, '\p{L}') then {{ inner }}
   end)
{%- endmacro %}

{#- A full name cleaned for splitting into first / last: honorifics (Mr, Mrs, Ms, Dr, Prof...) and generational or
    academic suffixes (Jr, Sr, II-IV, PhD, MD, MBA, Esq) dropped, "Last, First" turned into "First Last", spaces
    collapsed. NULL when nothing is left. -#}
{% macro clean_person_name(column) -%}
  {%- set collapsed = "trim(regexp_replace(" ~ column ~ ", '\\s+', ' ', 'g'))" -%}
  {%- set no_titles = "regexp_replace(regexp_replace(" ~ collapsed
      ~ ", '^((mr|mrs|ms|mx|miss|dr|prof|sir|herr|frau|mme|mlle)\\.?\\s+)+', '', 'i')"
      ~ ", '(,?\\s+(jr|sr|ii|iii|iv|phd|ph\\.d|md|mba|esq|msc|bsc)\\.?)+$', '', 'i')" -%}
  nullif(trim(case
    when regexp_full_match({{ no_titles }}, '[^,]+,[^,]+')
      then trim(split_part({{ no_titles }}, ',', 2)) || ' ' || trim(split_part({{ no_titles }}, ',', 1))
    else regexp_replace({{ no_titles }}, '\s*,\s*', ' ', 'g')
  end), '')
{%- endmacro %}

{#- First / last name of a cleaned full name (see clean_person_name): the first word, and the rest. -#}
{% macro first_name_part(cleaned_name) -%}
  nullif(split_part({{ cleaned_name }}, ' ', 1), '')
{%- endmacro %}

{% macro last_name_part(cleaned_name) -%}
  nullif(trim(substr({{ cleaned_name }}, length(split_part({{ cleaned_name }}, ' ', 1)) + 1)), '')
{%- endmacro %}
