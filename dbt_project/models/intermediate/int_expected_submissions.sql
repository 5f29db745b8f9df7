-- Expected takedowns exports: one row per member and month while the member is active (from
-- the month it joined through the month it left, inclusive: a member active on any day of a
-- month owes that month), up to the as_of month. Monitoring organisations have no monthly
-- obligation and get no rows.
select
    s.member_id as org_id,
    'takedowns' as dataset,
    c.month,
    strftime(c.month, '%Y-%m') as period
from {{ ref('int_member_spans') }} as s
inner join {{ ref('int_months') }} as c
    on  c.month >= s.join_month
    and (s.leave_month is null or c.month <= s.leave_month)
    and c.month <= {{ as_of_month() }}
