-- Monitoring counts per platform and month (month of window_start), current submissions only,
-- with the platform's membership in that month (int_platform_months): member_id is the member
-- it belonged to then, is_member_platform whether it counted on the coalition's side. A
-- platform missing from the registry counts as a non-member platform.
select
    m.platform_id,
    m.month,
    pm.member_id,
    coalesce(pm.is_member_platform, false) as is_member_platform,
    cast(sum(m.new_adverts_found) as bigint) as adverts_found,
    cast(sum(m.queries_run) as bigint) as queries_run,
    cast(count(*) as bigint) as monitoring_rows
from {{ ref('int_monitoring_current') }} as m
left join {{ ref('int_platform_months') }} as pm
    on pm.platform_id = m.platform_id and pm.month = m.month
group by all
