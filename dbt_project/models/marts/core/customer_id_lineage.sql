{#- Every customer id Touchplan has issued, with the id that carries it today. An id merged into another
    (customer_merge_log, event `merge`: the `other_customer_ids` joined `customer_id`) follows its merges, chains
    included: A merged into B, later B into C, gives A -> C. Tables written under a past id (send_ledger, and the
    one-click unsubscribes that join it) read the current id here, so an unsubscribe or a send made before a merge
    still counts for the person after it. An id of today's crosswalk maps to itself. The merge log is read when it
    exists (a warehouse before its first identity run has none). -#}
{%- set merge_log = load_relation(source('identity', 'customer_merge_log')) -%}
with recursive

current_ids as (
    select distinct customer_id from {{ ref('customer_crosswalk') }}
),

merge_events as (
    {%- if merge_log is not none %}
    select
        merged.merged_customer_id,
        merge_log.customer_id as into_customer_id,
        merge_log.event_at
    from {{ merge_log }} as merge_log,
        unnest(merge_log.other_customer_ids) as merged (merged_customer_id)
    where merge_log.event = 'merge'
    {%- else %}
    {{ optional_columns({'merged_customer_id': 'varchar', 'into_customer_id': 'varchar',
        'event_at': 'timestamp'}) }}
    {%- endif %}
),

-- one step per id: its latest merge (an id is merged away once; a hand-edited log keeps the latest)
merge_steps as (
    select
        merged_customer_id,
        into_customer_id
    from merge_events
    where merged_customer_id is not null and merged_customer_id <> into_customer_id
    qualify row_number() over (
        partition by merged_customer_id order by event_at desc, into_customer_id asc
    ) = 1
),

chains as (
    select
        merged_customer_id as customer_id,
        into_customer_id as current_customer_id,
        1 as merge_hops
    from merge_steps
    union all
    select
        chains.customer_id,
        merge_steps.into_customer_id,
        chains.merge_hops + 1 as merge_hops
    from chains
    inner join merge_steps on chains.current_customer_id = merge_steps.merged_customer_id
    -- a cycle (only a hand-edited log can make one) stops here instead of looping
    where chains.merge_hops < 100
),

chain_ends as (
    select
        customer_id,
        current_customer_id,
        merge_hops
    from chains
    where customer_id not in (select current_ids.customer_id from current_ids)
    qualify row_number() over (partition by customer_id order by merge_hops desc) = 1
),

final as (
    select
        customer_id,
        customer_id as current_customer_id,
        0 as merge_hops,
        true as is_current
    from current_ids
    union all
    select
        chain_ends.customer_id,
        chain_ends.current_customer_id,
        chain_ends.merge_hops,
        chain_ends.current_customer_id in (select current_ids.customer_id from current_ids) as is_current
    from chain_ends
)

select * from final
