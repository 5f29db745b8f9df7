-- The frozen coalition panel: the founding members' platforms with monitoring data in every
-- one of the baseline months before the founding join month (default 2017-03..2018-02).
-- "The founding members' platforms" are those a founding member owned in the founding join
-- month (int_platform_months), so the panel does not change when a platform later moves to
-- another member; a founding member that left, or was removed from the registry, keeps its
-- platforms in the panel and in the coalition series: the panel is frozen, so the series stays
-- like for like with its baseline (its platforms count in displacement too after the leave).
with founding_platforms as (
    select p.platform_id, p.member_id
    from {{ ref('int_platform_months') }} as p
    inner join {{ ref('int_member_spans') }} as m on m.member_id = p.member_id
    where m.founding
      and p.month = {{ month_literal(var('founding_join_month')) }}
),

coverage as (
    select platform_id, count(distinct month) as baseline_months_covered
    from {{ ref('int_platform_monthly') }}
    where month between {{ add_months(month_literal(var('founding_join_month')), -var('baseline_months')) }}
                    and {{ add_months(month_literal(var('founding_join_month')), -1) }}
      and queries_run > 0
    group by platform_id
)

select
    f.platform_id,
    f.member_id,
    cast(c.baseline_months_covered as integer) as baseline_months_covered
from founding_platforms as f
inner join coverage as c on c.platform_id = f.platform_id
where c.baseline_months_covered = {{ var('baseline_months') }}
