-- Baseline of each series: the ratio of sums over the months of its baseline window that
-- have data, baseline_prevalence = 1000 * sum(adverts) / sum(queries) (null without queries).
select
    w.scope,
    w.platform_id,
    w.member_id,
    w.join_month,
    w.baseline_start,
    w.baseline_end,
    w.has_target,
    cast(coalesce(sum(m.adverts_found), 0) as bigint) as baseline_adverts,
    cast(coalesce(sum(m.queries_run), 0) as bigint) as baseline_queries,
    cast(count(m.month) as integer) as baseline_months_covered,
    case
        when coalesce(sum(m.queries_run), 0) > 0
            then cast(1000.0 * sum(m.adverts_found) / sum(m.queries_run) as double)
    end as baseline_prevalence
from {{ ref('int_prevalence_windows') }} as w
left join {{ ref('int_prevalence_monthly') }} as m
    on  m.scope = w.scope
    and coalesce(m.platform_id, '') = coalesce(w.platform_id, '')
    and m.month between w.baseline_start and w.baseline_end
group by all
