-- kpi_member_monthly_breakdown adds up to kpi_member_monthly: for every member-month and each
-- of the four breakdown dimensions (commodity, cites_appendix, action_type, detection_source)
-- the items_actioned of the dimension's values sum to the member-month's items_actioned, and
-- their shares to 1; a member-month with items has all four dimensions, one without items
-- (zero-row file, or nothing accepted) has none. Returns the failing member-month-dimensions.
with dimensions as (
    select * from (values ('commodity'), ('cites_appendix'), ('action_type'), ('detection_source')) as d(dimension)
),

expected as (
    select k.member_id, k.month, d.dimension, k.items_actioned
    from {{ ref('kpi_member_monthly') }} as k
    cross join dimensions as d
    where k.items_actioned > 0
),

breakdown as (
    select
        member_id,
        month,
        dimension,
        sum(items_actioned) as items_actioned,
        sum(share_of_month) as shares,
        count(*) filter (where value is null) as null_values
    from {{ ref('kpi_member_monthly_breakdown') }}
    group by member_id, month, dimension
)

select
    coalesce(e.member_id, b.member_id) as member_id,
    coalesce(e.month, b.month) as month,
    coalesce(e.dimension, b.dimension) as dimension,
    e.items_actioned as kpi_items_actioned,
    b.items_actioned as breakdown_items_actioned,
    b.shares
from expected as e
full outer join breakdown as b
    on b.member_id = e.member_id and b.month = e.month and b.dimension = e.dimension
where e.items_actioned is distinct from b.items_actioned
   or abs(b.shares - 1.0) > 1e-9
   or b.null_values > 0
