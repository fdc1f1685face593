{#- stg_sendgrid__events, incremental by de-duplication group (issue #17; docs/operations.md "Daily runs").

    The model keeps, per key (coalesce(sg_event_id, natural_key)), the copy ingested first (the key's survivor),
    then, per content fingerprint ordered by time, drops a survivor within var('event_duplicate_window_seconds') of
    the previous one. A key's survivor depends on every row of the key; a fingerprint's kept rows on every survivor
    of the fingerprint (the window rule chains through `lag`). So a daily build re-derives:
      A  the affected keys: keys of the rows of staged files (_source_file, _file_hash, _staging_version) the last
         build did not see, or whose count of usable rows changed (an erasure nulls emails), and keys whose last
         survivor came from a file that is gone (a superseded version, rows restaged under another version);
      F  the fingerprints of A's survivors, old (bookkeeping table below) and new;
      X  A and every key whose survivor has a fingerprint in F;
    deletes X's rows from the table, and inserts the kept rows of the survivors of X, de-duplicated with the full
    groups of F in view. Every other row stays. Two bookkeeping tables, written by the hooks and holding no
    personal data, remember what the last build saw:
      stg_sendgrid__events__survivors  one row per key: its survivor's key, fingerprint, time, file and line;
      stg_sendgrid__events__files      the staged files (with their usable row count) and the version below.
    A build with no bookkeeping, or another version (this model's SQL, the window, the email-domain and group-name
    rules, the survivor rule), or dbt's --full-refresh rebuilds the table in full and writes the bookkeeping anew. -#}

{% macro sendgrid_events_table(suffix) -%}
{{- return(api.Relation.create(database=this.database, schema=this.schema,
                               identifier=this.identifier ~ '__' ~ suffix)) -}}
{%- endmacro %}

{#- Whether a table exists, asked of the database (the hooks create tables dbt's relation cache does not see). -#}
{% macro sendgrid_events_exists(relation) -%}
{%- set found = run_query(
    "select count(*) from information_schema.tables where table_catalog = '" ~ relation.database
    ~ "' and table_schema = '" ~ relation.schema ~ "' and table_name = '" ~ relation.identifier ~ "'"
).columns[0].values()[0] -%}
{{- return(found > 0) -}}
{%- endmacro %}

{#- The rows the de-duplication sees, with their key. -#}
{% macro sendgrid_event_rows_keyed(relation=none) -%}
select *, coalesce(event_id, natural_key) as dedup_key
from {{ relation if relation is not none else ref('stg_sendgrid__event_rows') }}
where email is not null and event_type is not null
{%- endmacro %}

{#- One row per key: the copy ingested first (then by file and line). -#}
{% macro sendgrid_event_survivor_rule() -%}
qualify row_number() over (partition by dedup_key order by _ingested_at, _source_file, _source_line) = 1
{%- endmacro %}

{#- Per fingerprint by time: a survivor within the window of the previous survivor is a re-sent copy. -#}
{% macro sendgrid_event_window_rule() -%}
qualify coalesce(
    date_diff(
        'second',
        lag(occurred_at) over (
            partition by fingerprint order by occurred_at, _ingested_at, _source_file, _source_line
        ),
        occurred_at
    ) > {{ var('event_duplicate_window_seconds', 2) }},
    true
)
{%- endmacro %}

{#- (Relation names are left out: they hold the warehouse file's name.) -#}
{% macro sendgrid_events_version() -%}
{{ return(local_md5(
    'state-v1|' ~ model.raw_code ~ '|' ~ sendgrid_event_rows_keyed('event_rows') ~ '|' ~ sendgrid_event_survivor_rule()
    ~ '|' ~ sendgrid_event_window_rule() ~ '|' ~ email_domain('email') ~ '|' ~ subscription_group_name('asm_group_id')
)) }}
{%- endmacro %}

{#- 'full': dbt builds the table from scratch (first build, --full-refresh); 'rebuild': the table exists but the
    bookkeeping is missing or of another version: its rows are deleted and the full result appended; 'increment':
    only the affected groups. The model's SQL, its pre-hook and post-hook all ask before any of them changes a
    table, so they agree. -#}
{% macro sendgrid_events_mode() -%}
{%- if not execute or this is none or not is_incremental() -%}{{ return('full') }}{%- endif -%}
{%- set files = sendgrid_events_table('files') -%}
{%- if not sendgrid_events_exists(files) or not sendgrid_events_exists(sendgrid_events_table('survivors')) -%}
  {{ return('rebuild') }}
{%- endif -%}
{%- set versions = run_query('select distinct _events_version from ' ~ files).columns[0].values() -%}
{%- if versions | list == [sendgrid_events_version()] -%}{{ return('increment') }}{%- endif -%}
{{ return('rebuild') }}
{%- endmacro %}

{#- The staged files as they are now, with the count of rows the de-duplication sees. -#}
{% macro sendgrid_events_current_files() -%}
select
    _source_file, _file_hash, _staging_version,
    count(*) filter (where email is not null and event_type is not null) as usable_rows
from {{ ref('stg_sendgrid__event_rows') }}
group by all
{%- endmacro %}

{#- Pre-hook. 'increment': the files now (work table __files_now), the keys X to re-derive (__keys) and their
    survivors (__work, read by the model), then X's rows deleted. 'rebuild': every row deleted. -#}
{% macro sendgrid_events_prepare() -%}
{%- if execute -%}
{%- set mode = sendgrid_events_mode() -%}
{%- set survivors, files = sendgrid_events_table('survivors'), sendgrid_events_table('files') -%}
{%- set files_now, keys, work = sendgrid_events_table('files_now'), sendgrid_events_table('keys'),
    sendgrid_events_table('work') -%}
{%- do run_query('drop table if exists ' ~ work) -%}
{%- do run_query('drop table if exists ' ~ keys) -%}
{%- do run_query('drop table if exists ' ~ files_now) -%}
{%- if mode == 'increment' -%}
  {%- call statement('sendgrid_events_files_now') -%}
    create table {{ files_now }} as {{ sendgrid_events_current_files() }}
  {%- endcall -%}
  {%- call statement('sendgrid_events_keys') -%}
    create table {{ keys }} as
    with
    new_files as (
        select _source_file, _file_hash, _staging_version, usable_rows from {{ files_now }}
        except
        select _source_file, _file_hash, _staging_version, usable_rows from {{ files }}
    ),
    gone_files as (
        select _source_file, _file_hash, _staging_version, usable_rows from {{ files }}
        except
        select _source_file, _file_hash, _staging_version, usable_rows from {{ files_now }}
    ),
    affected as (
        select keyed.dedup_key
        from ({{ sendgrid_event_rows_keyed() }}) as keyed
        semi join new_files using (_source_file, _file_hash, _staging_version)
        union
        select survivor.dedup_key
        from {{ survivors }} as survivor
        semi join gone_files using (_source_file, _file_hash, _staging_version)
    ),
    new_survivors as (
        select keyed.dedup_key, keyed.fingerprint
        from ({{ sendgrid_event_rows_keyed() }}) as keyed
        semi join affected using (dedup_key)
        {{ sendgrid_event_survivor_rule() }}
    ),
    fingerprints as (
        select fingerprint from new_survivors
        union
        select survivor.fingerprint from {{ survivors }} as survivor semi join affected using (dedup_key)
    )
    select dedup_key from affected
    union
    select survivor.dedup_key from {{ survivors }} as survivor semi join fingerprints using (fingerprint)
  {%- endcall -%}
  {%- call statement('sendgrid_events_work') -%}
    create table {{ work }} as
    select keyed.*
    from ({{ sendgrid_event_rows_keyed() }}) as keyed
    semi join {{ keys }} using (dedup_key)
    {{ sendgrid_event_survivor_rule() }}
  {%- endcall -%}
  {%- call statement('sendgrid_events_delete') -%}
    delete from {{ this }} where email_event_id in (select 'sendgrid:' || dedup_key from {{ keys }})
  {%- endcall -%}
  {%- set counts = run_query('select (select count(*) from ' ~ keys ~ '), (select count(*) from ' ~ survivors ~ ')') -%}
  {{- log(this.identifier ~ ': incremental, ' ~ counts.columns[0].values()[0] ~ ' event keys re-derived (the last '
          ~ 'build had ' ~ counts.columns[1].values()[0] ~ ')', info=True) -}}
{%- elif mode == 'rebuild' -%}
  {%- call statement('sendgrid_events_delete_all') -%}
    delete from {{ this }}
  {%- endcall -%}
  {{- log(this.identifier ~ ': rebuilt in full (no bookkeeping of the last build, or another version of the rule)',
          info=True) -}}
{%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- Post-hook: the bookkeeping of this build. After an increment (the pre-hook left __work), X's survivors
    replace theirs and the files now become the files seen; after a full build or rebuild both are written from
    stg_sendgrid__event_rows. The work tables are dropped. -#}
{% macro sendgrid_events_record() -%}
{%- if execute -%}
{%- set survivors, files = sendgrid_events_table('survivors'), sendgrid_events_table('files') -%}
{%- set files_now, keys, work = sendgrid_events_table('files_now'), sendgrid_events_table('keys'),
    sendgrid_events_table('work') -%}
{%- set version = sendgrid_events_version() -%}
{%- set narrow = 'dedup_key, fingerprint, occurred_at, _ingested_at, _source_file, _file_hash, _source_line, '
    ~ '_staging_version' -%}
{%- if sendgrid_events_exists(work) -%}
  {%- call statement('sendgrid_events_record_survivors') -%}
    delete from {{ survivors }} where dedup_key in (select dedup_key from {{ keys }});
    insert into {{ survivors }} select {{ narrow }} from {{ work }};
    create or replace table {{ files }} as select *, '{{ version }}' as _events_version from {{ files_now }};
  {%- endcall -%}
{%- else -%}
  {%- call statement('sendgrid_events_record_all') -%}
    create or replace table {{ survivors }} as
    select {{ narrow }} from ({{ sendgrid_event_rows_keyed() }}) as keyed {{ sendgrid_event_survivor_rule() }};
    create or replace table {{ files }} as
    select *, '{{ version }}' as _events_version from ({{ sendgrid_events_current_files() }}) as current_files;
  {%- endcall -%}
{%- endif -%}
{%- do run_query('drop table if exists ' ~ work) -%}
{%- do run_query('drop table if exists ' ~ keys) -%}
{%- do run_query('drop table if exists ' ~ files_now) -%}
{%- endif -%}
{%- endmacro %}
