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
with items as (
    select
        member_id,
        month,
        detection_source,
        detection_stage,
        appealed,
        restored,
        (epoch_us(actioned_at) - epoch_us(detected_at)) / 3600000000.0 as hours_to_action
    from {{ ref('fct_takedowns') }}
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
        count(*) filter (where appealed) as appealed_items,
        count(*) filter (where appealed and restored) as restored_items
    from items
    group by member_id, month
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
    cast(case when m.appealed_items > 0 then 1.0 * m.restored_items / m.appealed_items end as double) as restore_rate
from {{ ref('int_member_months') }} as s
left join monthly as m
    on m.member_id = s.member_id and m.month = s.month
left join {{ ref('int_repeat_sellers') }} as r
    on r.member_id = s.member_id and r.month = s.month
