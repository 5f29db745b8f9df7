-- Every current monitoring advert and query is counted once: per month, the platform series
-- plus the displacement series add up to fct_monitoring, and the coalition series equals the
-- sum of its panel platforms; and the incremental int_monitoring_current holds exactly the
-- rows of the current accepted submissions (`rows` of the submission history, which the
-- intake records as the rows it landed), no more, no fewer.
with fct as (
    select month, sum(new_adverts_found) as adverts, sum(queries_run) as queries
    from {{ ref('fct_monitoring') }}
    group by month
),
series as (
    select month, sum(adverts_found) as adverts, sum(queries_run) as queries
    from {{ ref('int_prevalence_monthly') }}
    where scope in ('platform', 'displacement')
    group by month
),
panel as (
    select f.month, sum(f.new_adverts_found) as adverts, sum(f.queries_run) as queries
    from {{ ref('fct_monitoring') }} as f
    inner join {{ ref('int_coalition_panel') }} as p on p.platform_id = f.platform_id
    group by f.month
),
coalition as (
    select month, adverts_found as adverts, queries_run as queries
    from {{ ref('int_prevalence_monthly') }}
    where scope = 'coalition'
)
select 'lake_vs_series' as check_name, coalesce(f.month, s.month) as month
from fct as f
full outer join series as s on s.month = f.month
where f.adverts is distinct from s.adverts or f.queries is distinct from s.queries
union all
select 'panel_vs_coalition', coalesce(p.month, c.month)
from panel as p
full outer join coalition as c on c.month = p.month
where p.adverts is distinct from c.adverts or p.queries is distinct from c.queries
union all
select 'current_rows_vs_history', coalesce(h.month, l.month)
from (
    select submission_id, month, row_count
    from {{ ref('int_submissions_current') }}
    where dataset = 'monitoring'
) as h
full outer join (
    select submission_id, min(period_month) as month, count(*) as row_count
    from {{ ref('int_monitoring_current') }}
    group by submission_id
) as l on l.submission_id = h.submission_id
where coalesce(l.row_count, 0) is distinct from coalesce(h.row_count, 0)
