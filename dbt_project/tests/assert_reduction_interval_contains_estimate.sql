-- The 95% interval of the reduction contains the point estimate and is ordered; it is present
-- exactly when A (adverts_found_3m) > 0 and the baseline is positive.
select *
from {{ ref('kpi_reduction_progress') }}
where
    (reduction_ci_low is not null and not (reduction_ci_low <= reduction_pct and reduction_pct <= reduction_ci_high))
    or ((reduction_ci_low is null) <> (reduction_ci_high is null))
    or ((reduction_ci_low is not null) <> (coalesce(adverts_found_3m, 0) > 0 and coalesce(baseline_prevalence, 0) > 0))
