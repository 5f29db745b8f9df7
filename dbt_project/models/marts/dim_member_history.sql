-- Membership history of the coalition as recorded by the registry snapshot
-- (snapshots.snap_registry__organisations, strategy check on joined, left_on, kind): one row
-- per member and version of its registry entry. valid_from / valid_to are the build times
-- (UTC) at which that version was first seen and superseded (null: current version); the
-- membership itself is joined .. left_on. Whether a member owed a report in a month is decided
-- by joined / left_on (int_member_spans: the current version, or the last version of a member
-- removed from the registry); this table shows when those dates were recorded or corrected,
-- e.g. a leave recorded after the fact.
select
    cast(s.org_id as varchar) as member_id,
    cast(s.org_name as varchar) as member_name,
    cast(s.founding as boolean) as founding,
    cast(s.synthetic as boolean) as synthetic,
    cast(s.joined as date) as joined,
    cast(s.left_on as date) as left_on,
    cast(case
        when s.founding then {{ month_literal(var('founding_join_month')) }}
        else date_trunc('month', s.joined)
    end as date) as join_month,
    cast(date_trunc('month', s.left_on) as date) as leave_month,
    cast(s.timezone as varchar) as timezone,
    cast(s.dbt_valid_from as timestamp) as valid_from,
    cast(s.dbt_valid_to as timestamp) as valid_to,
    cast(s.dbt_valid_to is null as boolean) as is_current_version
from {{ ref('snap_registry__organisations') }} as s
where s.kind = 'member'
