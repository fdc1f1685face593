{#- Every source record with the customer it belongs to and the rule / match weight that joined it. -#}
with

records as (
    select * from {{ ref('int_identity_records') }}
),

clusters as (
    select * from {{ source('identity', 'identity_clusters') }}
),

final as (
    select
        records.source_system,
        records.source_record_id,
        records.record_key,
        clusters.customer_id,
        records.record_type,
        clusters.joined_by_rule as match_rule,
        clusters.match_weight,
        records.is_deleted
    from records
    inner join clusters on records.record_key = clusters.record_key
)

select * from final
