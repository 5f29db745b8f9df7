-- One row per member: membership span in months and the baseline window of its platforms.
-- Founding members join in var('founding_join_month'); others in the month of `joined`.
-- The baseline is the var('baseline_months') months before the join month.
with members as (
    select
        org_id as member_id,
        org_name as member_name,
        founding,
        synthetic,
        joined,
        left_on,
        timezone,
        case
            when founding then {{ month_literal(var('founding_join_month')) }}
            else cast(date_trunc('month', joined) as date)
        end as join_month,
        cast(date_trunc('month', left_on) as date) as leave_month
    from {{ ref('stg_registry__organisations') }}
    where kind = 'member'
)

select
    *,
    {{ add_months('join_month', -var('baseline_months')) }} as baseline_start,
    {{ add_months('join_month', -1) }} as baseline_end
from members
