-- Members of the coalition with their membership span and baseline window (int_member_spans:
-- includes members removed from the registry, with their last snapshot version).
with platform_counts as (
    select member_id, count(*) as platforms
    from {{ ref('stg_registry__platforms') }}
    where member_id is not null
    group by member_id
)

select
    cast(m.member_id as varchar) as member_id,
    cast(m.member_name as varchar) as member_name,
    cast(m.founding as boolean) as founding,
    cast(m.synthetic as boolean) as synthetic,
    cast(m.joined as date) as joined,
    cast(m.left_on as date) as left_on,
    cast(m.timezone as varchar) as timezone,
    cast(m.join_month as date) as join_month,
    cast(m.leave_month as date) as leave_month,
    cast(m.baseline_start as date) as baseline_start,
    cast(m.baseline_end as date) as baseline_end,
    cast(m.baseline_end >= {{ month_literal(var('target_month')) }} as boolean) as joined_after_target,
    cast(m.removed_from_registry as boolean) as removed_from_registry,
    cast(coalesce(p.platforms, 0) as integer) as platforms
from {{ ref('int_member_spans') }} as m
left join platform_counts as p on p.member_id = m.member_id
