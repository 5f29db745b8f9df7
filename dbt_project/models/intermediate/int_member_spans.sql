-- One row per member, past or present: membership span in months and the baseline window of
-- its platforms. Founding members join in var('founding_join_month'); others in the month of
-- `joined`; the last month of membership is the month of `left_on`.
-- Who was a member in a month is decided here, from the registry's dates, for every KPI
-- (expected exports, effort spine, platform series, coalition panel, displacement):
--   * a member in today's registry: its joined / left_on as the registry says now (a leave
--     date set or corrected later applies to the months it covers, not to earlier ones);
--   * a member removed from the registry (config/members.yml) since an earlier build: its
--     last version in the registry snapshot, so its past months still count; without a
--     recorded leave date it is taken to have left on the day the build first saw it gone.
with current_registry as (
    select
        org_id, org_name, kind, founding, synthetic, joined, left_on, timezone,
        cast(null as date) as removed_on
    from {{ ref('stg_registry__organisations') }}
),

removed as (
    -- last snapshot version of organisations no longer in the registry
    select
        s.org_id, s.org_name, s.kind, s.founding, s.synthetic, s.joined, s.left_on, s.timezone,
        cast(s.dbt_valid_to as date) as removed_on
    from {{ ref('snap_registry__organisations') }} as s
    where s.dbt_valid_to is not null
      and not exists (select 1 from current_registry as r where r.org_id = s.org_id)
    qualify row_number() over (partition by s.org_id order by s.dbt_valid_from desc) = 1
),

members as (
    select
        org_id as member_id,
        org_name as member_name,
        founding,
        synthetic,
        joined,
        left_on,
        timezone,
        removed_on is not null as removed_from_registry,
        case
            when founding then {{ month_literal(var('founding_join_month')) }}
            else cast(date_trunc('month', joined) as date)
        end as join_month,
        cast(date_trunc('month', coalesce(left_on, removed_on)) as date) as leave_month
    from (select * from current_registry union all select * from removed) as o
    where kind = 'member'
)

select
    *,
    {{ add_months('join_month', -var('baseline_months')) }} as baseline_start,
    {{ add_months('join_month', -1) }} as baseline_end
from members
