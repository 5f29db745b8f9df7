-- Trailing three-month windows of each series, for every month from the first month of its
-- baseline window (or its first monitored month, whichever is earlier) through its last
-- monitored month. A series with no monitoring at all has no rows.
--   adverts_found_3m, queries_run_3m: sums over the months m-2..m that are present;
--   months_covered: how many of those three months are present (0..3);
--   prevalence_3m = 1000 * adverts_found_3m / queries_run_3m (null when no queries).
with series_bounds as (
    select
        w.scope,
        w.platform_id,
        least(w.baseline_start, min(m.month)) as first_month,
        max(m.month) as last_month
    from {{ ref('int_prevalence_windows') }} as w
    inner join {{ ref('int_prevalence_monthly') }} as m
        on  m.scope = w.scope
        and coalesce(m.platform_id, '') = coalesce(w.platform_id, '')
    group by w.scope, w.platform_id, w.baseline_start
),

spine as (
    select b.scope, b.platform_id, c.month
    from series_bounds as b
    inner join {{ ref('int_months') }} as c
        on c.month between b.first_month and b.last_month
),

windowed as (
    select
        s.scope,
        s.platform_id,
        s.month,
        sum(m.adverts_found) as adverts_found_3m,
        sum(m.queries_run) as queries_run_3m,
        count(m.month) as months_covered
    from spine as s
    left join {{ ref('int_prevalence_monthly') }} as m
        on  m.scope = s.scope
        and coalesce(m.platform_id, '') = coalesce(s.platform_id, '')
        and m.month between {{ add_months('s.month', -2) }} and s.month
    group by s.scope, s.platform_id, s.month
)

select
    scope,
    platform_id,
    month,
    cast(adverts_found_3m as bigint) as adverts_found_3m,
    cast(queries_run_3m as bigint) as queries_run_3m,
    cast(months_covered as integer) as months_covered,
    case
        when queries_run_3m > 0 then cast(1000.0 * adverts_found_3m / queries_run_3m as double)
    end as prevalence_3m
from windowed
