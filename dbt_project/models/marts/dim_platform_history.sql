-- Platform history of the registry as recorded by its snapshot
-- (snapshots.snap_registry__platforms, strategy check on member_id): one row per platform and
-- version of its owner. valid_from / valid_to are the build times (UTC) at which a version
-- was first seen and superseded (null: current version): the registry records no date for a
-- platform moving between members, joining or leaving, so these are the only dates there are.
-- effective_from_month / effective_to_month are the months the KPI models attribute to the
-- version (int_platform_months): from the month its change was first seen (the first member
-- version, or a platform's first version, reaches back to every earlier month: null) to the
-- month before effective_to_month (null: still current).
with versions as (
    select
        s.*,
        count(s.member_id) over (
            partition by s.platform_id order by s.dbt_valid_from
            rows between unbounded preceding and 1 preceding
        ) as earlier_member_versions,
        row_number() over (partition by s.platform_id order by s.dbt_valid_from) as version
    from {{ ref('snap_registry__platforms') }} as s
)

select
    cast(platform_id as varchar) as platform_id,
    cast(platform_name as varchar) as platform_name,
    cast(member_id as varchar) as member_id,
    cast(synthetic as boolean) as synthetic,
    cast(version as integer) as version,
    cast(case
        when version = 1 or (member_id is not null and earlier_member_versions = 0) then null
        else date_trunc('month', dbt_valid_from)
    end as date) as effective_from_month,
    cast(date_trunc('month', dbt_valid_to) as date) as effective_to_month,
    cast(dbt_valid_from as timestamp) as valid_from,
    cast(dbt_valid_to as timestamp) as valid_to,
    cast(dbt_valid_to is null as boolean) as is_current_version
from versions
