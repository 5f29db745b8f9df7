-- The baseline window and target rule of each prevalence series.
--   platform:     12 months before the join month of the member owning the platform: every
--                 platform that was ever a member platform (int_platform_months), with the
--                 first member it belonged to (a platform that moved between members keeps
--                 the baseline of its first member);
--   coalition:    the founding window (founding_join_month - 12 .. - 1), target as founding;
--   displacement: displacement_baseline_start .. displacement_baseline_end, no target.
with first_member as (
    select platform_id, arg_min(member_id, month) as member_id
    from {{ ref('int_platform_months') }}
    where is_member_platform
    group by platform_id
)

select
    'platform' as scope,
    p.platform_id,
    p.member_id,
    m.join_month,
    m.baseline_start,
    m.baseline_end,
    true as has_target
from first_member as p
inner join {{ ref('int_member_spans') }} as m on m.member_id = p.member_id

union all

select
    'coalition' as scope,
    cast(null as varchar) as platform_id,
    cast(null as varchar) as member_id,
    {{ month_literal(var('founding_join_month')) }} as join_month,
    {{ add_months(month_literal(var('founding_join_month')), -var('baseline_months')) }} as baseline_start,
    {{ add_months(month_literal(var('founding_join_month')), -1) }} as baseline_end,
    true as has_target

union all

select
    'displacement' as scope,
    cast(null as varchar) as platform_id,
    cast(null as varchar) as member_id,
    cast(null as date) as join_month,
    {{ month_literal(var('displacement_baseline_start')) }} as baseline_start,
    {{ month_literal(var('displacement_baseline_end')) }} as baseline_end,
    false as has_target
