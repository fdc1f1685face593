{#- The pre-hooks of customer_lifecycle_history (kept across runs): a customer id that identity merged into another
    (customer_id_lineage: merge_hops > 0, its chain ending in a current id) carries its recorded days over to the
    id that carries it today, so a merged person keeps one history and the table names only current customers.
    1. lifecycle_history_carry_merged: each recorded day of a merged-away id becomes a day of its current id,
       unless that id has its own row for the day (its own row wins; of several merged ids the latest snapshot);
    2. lifecycle_history_delete_merged: the merged-away ids' rows are deleted.
    Before customer_id_lineage exists (a build of the insight models alone) there is nothing to follow. -#}
{% macro lifecycle_history_carry_merged() -%}
{%- set lineage = load_relation(ref('customer_id_lineage')) -%}
{%- if is_incremental() and lineage is not none -%}
insert into {{ this }} by name
select h.* replace (lineage.current_customer_id as customer_id)
from {{ this }} as h
inner join {{ lineage }} as lineage on h.customer_id = lineage.customer_id
where
    lineage.merge_hops > 0
    and lineage.is_current
    and not exists (
        select 1 from {{ this }} as own
        where own.customer_id = lineage.current_customer_id and own.snapshot_date = h.snapshot_date
    )
qualify row_number() over (
    partition by lineage.current_customer_id, h.snapshot_date order by h.snapshot_at desc, h.customer_id asc
) = 1
{%- endif -%}
{%- endmacro %}

{% macro lifecycle_history_delete_merged() -%}
{%- set lineage = load_relation(ref('customer_id_lineage')) -%}
{%- if is_incremental() and lineage is not none -%}
delete from {{ this }}
where customer_id in (
    select lineage.customer_id from {{ lineage }} as lineage where lineage.merge_hops > 0 and lineage.is_current
)
{%- endif -%}
{%- endmacro %}
