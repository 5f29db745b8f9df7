{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['member_id', 'month'],
    on_schema_change='fail',
    post_hook="delete from {{ this }} as r where not exists (select 1 from {{ ref('fct_takedowns') }} as f where f.member_id = r.member_id and f.month = r.month)"
) }}
-- Repeat sellers per member and month (numerator and denominator of
-- kpi_member_monthly.repeat_seller_rate):
--   sellers        = distinct sellers actioned in m;
--   repeat_sellers = those of them with >= 2 actioned items of the same member in months
--                    m-(window-1)..m (var repeat_seller_window_months, 12: m-11..m).
-- The window join over seller-months is the costly part of the effort KPIs, so this model is
-- incremental: it stores the current submission each row was computed from; a run recomputes
-- only the member-months whose window m-(window-1)..m contains a month whose current
-- submission changed (new, replaced, or gone), reading fct_takedowns only over the months
-- those windows need; the post-hook deletes rows of member-months left without items
-- (e.g. replaced by a zero-row file). A full build computes every member-month.
{%- set window = var('repeat_seller_window_months') %}

with current_months as (
    -- one current submission per member and month (fct_takedowns holds only current ones)
    select member_id, month, min(submission_id) as submission_id
    from {{ ref('fct_takedowns') }}
    group by member_id, month
),

{% if is_incremental() -%}
changed as (
    select coalesce(c.member_id, r.member_id) as member_id, coalesce(c.month, r.month) as month
    from current_months as c
    full outer join {{ this }} as r on r.member_id = c.member_id and r.month = c.month
    where c.submission_id is distinct from r.submission_id
),

targets as (
    select distinct c.member_id, c.month, c.submission_id
    from current_months as c
    inner join changed as x
        on  x.member_id = c.member_id
        and c.month between x.month and {{ add_months('x.month', window - 1) }}
),
{%- else -%}
targets as (
    select member_id, month, submission_id from current_months
),
{%- endif %}

ranges as (
    select member_id, {{ add_months('min(month)', -(window - 1)) }} as first_month, max(month) as last_month
    from targets
    group by member_id
),

seller_months as (
    select f.member_id, f.seller_id, f.month, count(*) as items
    from {{ ref('fct_takedowns') }} as f
    inner join ranges as r
        on r.member_id = f.member_id and f.month between r.first_month and r.last_month
    group by f.member_id, f.seller_id, f.month
),

seller_windows as (
    select
        cur.member_id,
        cur.month,
        cur.seller_id,
        sum(win.items) as items_in_window
    from seller_months as cur
    inner join targets as t on t.member_id = cur.member_id and t.month = cur.month
    inner join seller_months as win
        on  win.member_id = cur.member_id
        and win.seller_id = cur.seller_id
        and win.month between {{ add_months('cur.month', -(window - 1)) }} and cur.month
    group by cur.member_id, cur.month, cur.seller_id
)

select
    cast(t.member_id as varchar) as member_id,
    cast(t.month as date) as month,
    cast(t.submission_id as varchar) as submission_id,
    cast(count(w.seller_id) as bigint) as sellers,
    cast(count(w.seller_id) filter (where w.items_in_window >= 2) as bigint) as repeat_sellers
from targets as t
left join seller_windows as w on w.member_id = t.member_id and w.month = t.month
group by t.member_id, t.month, t.submission_id
