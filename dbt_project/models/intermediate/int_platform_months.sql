-- Which member each platform belonged to in each month, and whether the platform's
-- monitoring counts on the coalition's side that month (domain.md section 4: a KPI for a
-- month uses who was a member then). One row per platform of the registry snapshot and month
-- of int_months.
--   owner_id: the member the registry listed the platform under for the month. The registry
--     has no dates for platform changes, so the snapshot's versions give them: a version
--     applies from the month its change was first seen (dbt_valid_from) to the month before
--     its dbt_valid_to; a platform's first member version applies to every earlier month too
--     (a member's platform is its own from before it joined: its baseline), and so does the
--     first version of a platform that never had a member;
--   is_member_platform: owner_id is a member that has not left by the month (leave_month
--     null or >= month). Months before the member joined count on its side: they are the
--     baseline of its platform series. After a member leaves, its platforms are non-member
--     platforms (displacement);
--   member_id: owner_id when is_member_platform, else null.
with versions as (
    select
        platform_id,
        member_id,
        dbt_valid_from,
        cast(date_trunc('month', dbt_valid_from) as date) as from_month,
        cast(date_trunc('month', dbt_valid_to) as date) as to_month,
        row_number() over (partition by platform_id order by dbt_valid_from) as version,
        count(member_id) over (
            partition by platform_id order by dbt_valid_from
            rows between unbounded preceding and 1 preceding
        ) as earlier_member_versions
    from {{ ref('snap_registry__platforms') }}
),

effective as (
    select
        platform_id,
        member_id,
        dbt_valid_from,
        case
            when version = 1 then null
            when member_id is not null and earlier_member_versions = 0 then null
            else from_month
        end as from_month,  -- null: since always
        to_month            -- exclusive; null: still current
    from versions
),

owned as (
    -- where two versions cover a month (a non-member version and the first member version
    -- reaching back), the member version wins; otherwise the latest
    select e.platform_id, c.month, e.member_id as owner_id
    from effective as e
    inner join {{ ref('int_months') }} as c
        on  (e.from_month is null or c.month >= e.from_month)
        and (e.to_month is null or c.month < e.to_month)
    qualify row_number() over (
        partition by e.platform_id, c.month
        order by (e.member_id is not null) desc, e.dbt_valid_from desc
    ) = 1
)

select
    o.platform_id,
    o.month,
    o.owner_id,
    case when s.member_id is not null and (s.leave_month is null or o.month <= s.leave_month) then o.owner_id end as member_id,
    coalesce(s.member_id is not null and (s.leave_month is null or o.month <= s.leave_month), false) as is_member_platform,
    coalesce(s.member_id is not null and o.month >= s.join_month and (s.leave_month is null or o.month <= s.leave_month), false) as member_active
from owned as o
left join {{ ref('int_member_spans') }} as s on s.member_id = o.owner_id
