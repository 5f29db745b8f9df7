{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ ewto_delete_changed_member_months('kpi_member_monthly_breakdown') }}",
    post_hook="{{ ewto_mark_consumed('kpi_member_monthly_breakdown') }}"
) }}
-- items_actioned per member and month broken down by commodity, CITES appendix, action type
-- and detection source (domain.md section 4: "also by commodity, CITES appendix, action type,
-- source"). One row per member x month x dimension x value with at least one item; a missing
-- CITES appendix is reported as 'not_reported'.
-- Incremental by member-month: a run recomputes only the member-months whose takedowns
-- changed since the last run (the change log of fct_takedowns,
-- macros/ewto_takedown_changes.sql); the pre-hook deletes their rows first, so a member-month
-- left without items loses its rows. A full build computes everything.
{%- set changed = ewto_changed_member_months('kpi_member_monthly_breakdown') if is_incremental() else none %}
with items as (
    select f.member_id, f.month, f.commodity, coalesce(f.cites_appendix, 'not_reported') as cites_appendix,
           f.action_type, f.detection_source
    from {{ ref('fct_takedowns') }} as f
{%- if changed is not none %}
    -- {{ changed | length }} changed member-month(s)
    where (f.member_id, f.month) in ({{ ewto_member_months_select(changed) }})
{%- endif %}
),

long as (
    select member_id, month, 'commodity' as dimension, commodity as value from items
    union all
    select member_id, month, 'cites_appendix', cites_appendix from items
    union all
    select member_id, month, 'action_type', action_type from items
    union all
    select member_id, month, 'detection_source', detection_source from items
),

counted as (
    select member_id, month, dimension, value, count(*) as items_actioned
    from long
    group by all
)

select
    cast(member_id as varchar) as member_id,
    cast(month as date) as month,
    cast(dimension as varchar) as dimension,
    cast(value as varchar) as value,
    cast(items_actioned as bigint) as items_actioned,
    cast(1.0 * items_actioned / sum(items_actioned) over (partition by member_id, month, dimension) as double) as share_of_month
from counted
