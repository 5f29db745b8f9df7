-- The months calendar (first day of each month) covering every baseline window, all current
-- data, the target month and the as_of month.
with bounds as (
    select
        least(
            {{ month_literal(var('displacement_baseline_start')) }},
            {{ add_months(month_literal(var('founding_join_month')), -var('baseline_months')) }},
            (select min(baseline_start) from {{ ref('int_member_spans') }}),
            (select min(month) from {{ ref('int_monitoring_current') }}),
            (select min(month) from {{ ref('int_submissions_current') }})
        ) as first_month,
        greatest(
            {{ as_of_month() }},
            {{ month_literal(var('target_month')) }},
            {{ month_literal(var('displacement_baseline_end')) }},
            (select max(month) from {{ ref('int_monitoring_current') }}),
            (select max(month) from {{ ref('int_submissions_current') }})
        ) as last_month
)

select cast(r.range as date) as month
from bounds, range(cast(bounds.first_month as timestamp), cast(bounds.last_month as timestamp) + interval 1 month, interval 1 month) as r
