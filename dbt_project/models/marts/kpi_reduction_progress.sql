-- Progress towards the 80% reduction target (domain.md section 4), one row per series x month.
--   reduction_pct = 1 - prevalence_3m / baseline_prevalence        (null if baseline null or 0)
--   Poisson 95% interval, A = adverts_found_3m, B = baseline adverts, r = prevalence_3m / baseline:
--     r_low, r_high = r * exp(-/+ z * sqrt(1/A + 1/B)); interval [1 - r_high, 1 - r_low]
--     (null where A or B is 0; bounds rounded to 12 decimals)
--   target_reduction_pct = target * clamp(k / K, 0, 1), k = months from the baseline's last
--     month to m, K = months from the baseline's last month to the target month; when the
--     baseline ends on or after the target month (a late joiner): the full target from the
--     join month on and NULL before it (no commitment before joining); null for displacement.
--   on_track = reduction_pct >= target_reduction_pct (null when either is null).
-- Membership by month: a platform series has rows only for the months in which the platform
-- was a member platform (int_platform_months: its member's baseline months before joining
-- included, the months after the member left excluded), so a KPI for a month uses who was a
-- member then; a month in which the platform belonged to no member is not part of its series.
{%- set target = var('target_reduction') %}
{%- set target_month = month_literal(var('target_month')) %}

with joined as (
    select
        p.scope,
        p.platform_id,
        p.month,
        p.adverts_found_3m,
        p.queries_run_3m,
        p.prevalence_3m,
        p.months_covered,
        b.baseline_prevalence,
        b.baseline_adverts,
        b.baseline_end,
        b.join_month,
        b.has_target
    from {{ ref('int_prevalence_3m') }} as p
    inner join {{ ref('int_prevalence_baselines') }} as b
        on  b.scope = p.scope
        and coalesce(b.platform_id, '') = coalesce(p.platform_id, '')
    left join {{ ref('int_platform_months') }} as pm
        on  p.scope = 'platform'
        and pm.platform_id = p.platform_id
        and pm.month = p.month
    where p.scope <> 'platform' or pm.is_member_platform
),

ratios as (
    select
        *,
        case
            when baseline_prevalence > 0 and prevalence_3m is not null
                then prevalence_3m / baseline_prevalence
        end as ratio,
        case
            when adverts_found_3m > 0 and baseline_adverts > 0
                then {{ var('z') }} * sqrt(1.0 / adverts_found_3m + 1.0 / baseline_adverts)
        end as log_half_width,
        case
            when not has_target then null
            when baseline_end >= {{ target_month }} then
                case when month >= join_month then {{ target }} end
            else {{ target }} * least(greatest(
                    cast({{ months_between('baseline_end', 'month') }} as double)
                    / {{ months_between('baseline_end', target_month) }},
                    0.0), 1.0)
        end as target_reduction_pct
    from joined
)

select
    cast(scope as varchar) as scope,
    cast(platform_id as varchar) as platform_id,
    cast(month as date) as month,
    cast(adverts_found_3m as bigint) as adverts_found_3m,
    cast(queries_run_3m as bigint) as queries_run_3m,
    cast(prevalence_3m as double) as prevalence_3m,
    cast(months_covered as integer) as months_covered,
    cast(baseline_prevalence as double) as baseline_prevalence,
    cast(1 - ratio as double) as reduction_pct,
    -- the bounds go through exp(), whose last bit differs between math libraries: rounded to
    -- 12 decimals so the published numbers are identical on every platform
    cast(round(1 - ratio * exp(log_half_width), 12) as double) as reduction_ci_low,
    cast(round(1 - ratio * exp(-log_half_width), 12) as double) as reduction_ci_high,
    cast(target_reduction_pct as double) as target_reduction_pct,
    cast(case
        when ratio is null or target_reduction_pct is null then null
        else (1 - ratio) >= target_reduction_pct
    end as boolean) as on_track
from ratios
