-- items_actioned per member and month broken down by commodity, CITES appendix, action type
-- and detection source (domain.md section 4: "also by commodity, CITES appendix, action type,
-- source"). One row per member x month x dimension x value with at least one item; a missing
-- CITES appendix is reported as 'not_reported'.
with items as (
    select member_id, month, commodity, coalesce(cites_appendix, 'not_reported') as cites_appendix,
           action_type, detection_source
    from {{ ref('fct_takedowns') }}
),

long as (
    select member_id, month, 'commodity' as dimension, commodity as value from items
    union all
    select member_id, month, 'cites_appendix', cites_appendix from items
    union all
    select member_id, month, 'action_type', action_type from items
    union all
    select member_id, month, 'detection_source', detection_source from items
),

counted as (
    select member_id, month, dimension, value, count(*) as items_actioned
    from long
    group by all
)

select
    cast(member_id as varchar) as member_id,
    cast(month as date) as month,
    cast(dimension as varchar) as dimension,
    cast(value as varchar) as value,
    cast(items_actioned as bigint) as items_actioned,
    cast(1.0 * items_actioned / sum(items_actioned) over (partition by member_id, month, dimension) as double) as share_of_month
from counted
