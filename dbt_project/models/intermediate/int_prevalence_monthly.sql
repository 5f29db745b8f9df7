-- Monthly monitoring totals of each prevalence series, with membership decided per month
-- (int_platform_monthly.is_member_platform, from int_platform_months):
--   scope 'platform'     one series per member platform, over the months it is a member
--                        platform (its member's baseline months before joining included,
--                        the months after its member left excluded);
--   scope 'coalition'    the frozen panel, adverts and queries added up across its platforms
--                        in every month, also after a panel member left: the series stays
--                        like for like with its baseline (a departure must not move it);
--   scope 'displacement' all monitored non-member platforms of the month added up (platforms
--                        of no member, and those of members that had left by then).
-- A month is present in a series when at least one monitoring row counts for it.
select
    'platform' as scope,
    platform_id,
    month,
    adverts_found,
    queries_run,
    cast(1 as integer) as platforms_monitored
from {{ ref('int_platform_monthly') }}
where is_member_platform

union all

select
    'coalition' as scope,
    cast(null as varchar) as platform_id,
    pm.month,
    cast(sum(pm.adverts_found) as bigint) as adverts_found,
    cast(sum(pm.queries_run) as bigint) as queries_run,
    cast(count(*) as integer) as platforms_monitored
from {{ ref('int_platform_monthly') }} as pm
inner join {{ ref('int_coalition_panel') }} as panel on panel.platform_id = pm.platform_id
group by pm.month

union all

select
    'displacement' as scope,
    cast(null as varchar) as platform_id,
    month,
    cast(sum(adverts_found) as bigint) as adverts_found,
    cast(sum(queries_run) as bigint) as queries_run,
    cast(count(*) as integer) as platforms_monitored
from {{ ref('int_platform_monthly') }}
where not is_member_platform
group by month
