-- Monitoring counts per platform and month (month of window_start), current submissions only.
select
    m.platform_id,
    m.month,
    p.member_id,
    p.member_id is not null as is_member_platform,
    cast(sum(m.new_adverts_found) as bigint) as adverts_found,
    cast(sum(m.queries_run) as bigint) as queries_run,
    cast(count(*) as bigint) as monitoring_rows
from {{ ref('int_monitoring_current') }} as m
left join {{ ref('stg_registry__platforms') }} as p on p.platform_id = m.platform_id
group by all
