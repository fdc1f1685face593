{#- Every plan decision measurement reads: Touchplan's own (contact_decisions, every plan run) and past
    decisions loaded from files (raw_contact_history, keyed by email, resolved here to the customer whose record
    carries that email; rows quarantined by the loader, or whose email matches no customer, are left out).
    A decision keeps the customer id of its plan run: one merged into another since then is read as the id that
    carries it today (customer_id_lineage), so treated, held-out and their outcomes stay one person. -#}
with

own as (
    select
        coalesce(lineage.current_customer_id, d.customer_id) as customer_id,
        d.campaign_id,
        d.outcome,
        d.reason_code,
        coalesce(d.scheduled_at, d.due_at, d.created_at) as slot_at,
        'contact_decisions' as decision_source
    from {{ source('planning', 'contact_decisions') }} as d
    left join {{ ref('customer_id_lineage') }} as lineage on d.customer_id = lineage.customer_id
),

emails as (
    select
        r.email,
        min(c.customer_id) as customer_id
    from {{ ref('int_identity_records') }} as r
    inner join {{ ref('customer_crosswalk') }} as c on r.record_key = c.record_key
    where r.email is not null
    group by r.email
),

history as (
    select
        e.customer_id,
        h.campaign_id,
        h.outcome,
        h.reason_code,
        coalesce(h.scheduled_at, h.due_at) as slot_at,
        'raw_contact_history' as decision_source
    from {{ source('planning', 'raw_contact_history') }} as h
    inner join emails as e on h.email = e.email
    where h.quarantine_reason is null
)

select * from own
union all
select * from history
