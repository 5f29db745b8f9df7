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
-- An incremental run does not group the windows' seller-months (5 M rows of 12 months at
-- scale 1): for each seller actioned in a member-month it recomputes, it counts that seller's
-- items of the member in the month's window, reading only the windows' months (an equality
-- join on (member_id, month), which DuckDB turns into a filter on the scan of fct_takedowns;
-- a range join did not) and joining them to those sellers (a materialized CTE: as a semi join
-- DuckDB hashed the window's rows instead of the sellers). Same counts as the full build's
-- seller-month join; 1.0 CPU-s instead of 2.2-2.6 at scale 1 (benchmarks/README.md).
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

{% if is_incremental() -%}
window_months as (
    -- every month of the windows of the member-months recomputed
    select distinct t.member_id, cast(w.month as date) as month
    from targets as t,
        unnest(generate_series({{ add_months('t.month', -(window - 1)) }}, t.month, interval 1 month)) as w(month)
),

target_sellers as materialized (
    -- the sellers actioned in each member-month recomputed
    select distinct f.member_id, f.month, f.seller_id
    from {{ ref('fct_takedowns') }} as f
    inner join targets as t on t.member_id = f.member_id and t.month = f.month
),

seller_windows as (
    -- each of those sellers' items of the member in the month's window
    select s.member_id, s.month, s.seller_id, count(*) as items_in_window
    from {{ ref('fct_takedowns') }} as f
    inner join window_months as w on w.member_id = f.member_id and w.month = f.month
    inner join target_sellers as s
        on  s.member_id = f.member_id
        and s.seller_id = f.seller_id
        and f.month between {{ add_months('s.month', -(window - 1)) }} and s.month
    group by s.member_id, s.month, s.seller_id
)
{%- else %}
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
{%- endif %}

select
    cast(t.member_id as varchar) as member_id,
    cast(t.month as date) as month,
    cast(t.submission_id as varchar) as submission_id,
    cast(count(w.seller_id) as bigint) as sellers,
    cast(count(w.seller_id) filter (where w.items_in_window >= 2) as bigint) as repeat_sellers
from targets as t
left join seller_windows as w on w.member_id = t.member_id and w.month = t.month
group by t.member_id, t.month, t.submission_id
