-- Platforms of the registry (member and non-member) with their monitoring coverage.
with coverage as (
    select
        platform_id,
        min(month) as first_monitored_month,
        max(month) as last_monitored_month,
        count(*) as months_monitored
    from {{ ref('int_platform_monthly') }}
    group by platform_id
)

select
    cast(p.platform_id as varchar) as platform_id,
    cast(p.platform_name as varchar) as platform_name,
    cast(p.member_id as varchar) as member_id,
    cast(p.member_id is not null as boolean) as is_member_platform,
    cast(p.synthetic as boolean) as synthetic,
    cast(panel.platform_id is not null as boolean) as in_coalition_panel,
    cast(c.first_monitored_month as date) as first_monitored_month,
    cast(c.last_monitored_month as date) as last_monitored_month,
    cast(coalesce(c.months_monitored, 0) as integer) as months_monitored
from {{ ref('stg_registry__platforms') }} as p
left join {{ ref('int_coalition_panel') }} as panel on panel.platform_id = p.platform_id
left join coverage as c on c.platform_id = p.platform_id
