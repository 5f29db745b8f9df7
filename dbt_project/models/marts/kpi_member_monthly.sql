{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['member_id', 'month'],
    on_schema_change='fail',
    post_hook=[
        "delete from {{ this }} as k where not exists (select 1 from {{ ref('int_member_months') }} as s where s.member_id = k.member_id and s.month = k.month)",
        "{{ ewto_mark_consumed('kpi_member_monthly') }}",
    ]
) }}
-- Effort and response KPIs per member and month (domain.md section 4). Rows: every month the
-- member is expected to report (active, up to the as_of month) or has an accepted file.
--   items_actioned = rows of the current accepted file; 0 for an accepted file with no rows;
--     NULL when no file has been accepted for the month (not reported is not zero).
--   proactive_rate = share with detection_source in var('proactive_sources');
--   prepublication_share = share with detection_stage = 'pre_publication';
--   median/p90_hours_to_action = quantile_cont (linear interpolation) of
--     (actioned_at - detected_at) in hours;
--   repeat_seller_rate = sellers actioned in m with >= 2 actioned items in months
--     m-(window-1)..m, over distinct sellers actioned in m (per member; the counts come from
--     int_repeat_sellers, which is incremental);
--   restore_rate = items appealed and restored / items appealed (null without appeals).
-- Rates and quantiles are null when the month has no items.
-- Incremental: the figures computed from fct_takedowns (the costly part: 12 M rows at scale 1)
-- are recomputed only for the member-months whose takedowns changed since the last run (the
-- change log of fct_takedowns, macros/ewto_takedown_changes.sql); the other member-months
-- keep the figures stored in this table. Every row of the spine is written again (a few
-- thousand), so changes of the spine or of int_repeat_sellers always reach the mart; the
-- post-hook deletes rows that left the spine. A full build computes everything.
{%- set changed = ewto_changed_member_months('kpi_member_monthly') if is_incremental() else none %}
with
{%- if changed is not none %}
recompute as (
    -- the member-months whose takedowns changed since the last run ({{ changed | length }}),
    -- and the spine's member-months this table does not hold yet
    {{ ewto_member_months_select(changed) }}
    union
    select s.member_id, s.month
    from {{ ref('int_member_months') }} as s
    where not exists (select 1 from {{ this }} as k where k.member_id = s.member_id and k.month = s.month)
),
{%- endif %}

items as (
    select
        f.member_id,
        f.month,
        f.detection_source,
        f.detection_stage,
        f.appealed,
        f.restored,
        (epoch_us(f.actioned_at) - epoch_us(f.detected_at)) / 3600000000.0 as hours_to_action
    from {{ ref('fct_takedowns') }} as f
{%- if changed is not none %}
    where (f.member_id, f.month) in (select member_id, month from recompute)
{%- endif %}
),

monthly as (
    select
        member_id,
        month,
        count(*) as items_actioned,
        avg(case when detection_source in {{ sql_string_list(var('proactive_sources')) }} then 1.0 else 0.0 end) as proactive_rate,
        avg(case when detection_stage = 'pre_publication' then 1.0 else 0.0 end) as prepublication_share,
        quantile_cont(hours_to_action, 0.5) as median_hours_to_action,
        quantile_cont(hours_to_action, 0.9) as p90_hours_to_action,
        case
            when count(*) filter (where appealed) > 0
                then 1.0 * count(*) filter (where appealed and restored) / count(*) filter (where appealed)
        end as restore_rate
    from items
    group by member_id, month
{%- if changed is not none %}
    union all
    -- the other member-months with items keep their figures
    select
        k.member_id, k.month, k.items_actioned, k.proactive_rate, k.prepublication_share,
        k.median_hours_to_action, k.p90_hours_to_action, k.restore_rate
    from {{ this }} as k
    where k.items_actioned > 0
      and not exists (select 1 from recompute as x where x.member_id = k.member_id and x.month = k.month)
{%- endif %}
)

select
    cast(s.member_id as varchar) as member_id,
    cast(s.month as date) as month,
    cast(case
        when s.has_accepted_submission or m.items_actioned is not null then coalesce(m.items_actioned, 0)
    end as bigint) as items_actioned,
    cast(m.proactive_rate as double) as proactive_rate,
    cast(m.prepublication_share as double) as prepublication_share,
    cast(m.median_hours_to_action as double) as median_hours_to_action,
    cast(m.p90_hours_to_action as double) as p90_hours_to_action,
    cast(case when r.sellers > 0 then 1.0 * r.repeat_sellers / r.sellers end as double) as repeat_seller_rate,
    cast(m.restore_rate as double) as restore_rate
from {{ ref('int_member_months') }} as s
left join monthly as m
    on m.member_id = s.member_id and m.month = s.month
left join {{ ref('int_repeat_sellers') }} as r
    on r.member_id = s.member_id and r.month = s.month
