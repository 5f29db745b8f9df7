{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ ewto_takedowns_log_setup() }}",
        "{{ ewto_takedowns_log_run() }}",
    ],
    post_hook="{{ ewto_takedowns_post_hook() }}"
) }}
-- One row per actioned item of the current accepted takedowns submissions.
-- Incremental by submission (one submission = one member and period): before each
-- incremental run the pre-hooks delete the rows of submissions that are no longer current
-- (replaced by a later accepted file of the same org and period, including a zero-row one);
-- the run then appends the rows of the current submissions not yet in the table, reading only
-- their lake files (macro ewto_lake_files), not the whole lake. A full build (or
-- --full-refresh) reads every current file.
-- Every run logs which submissions it appended or pruned (macros/ewto_takedown_changes.sql),
-- in the same transaction; the log is also how an incremental run finds them without
-- scanning the table. The uniqueness tests and the KPI marts downstream work on those
-- submissions and member-months only.
-- depends_on: {{ ref('int_submissions_current') }}
{%- set new_submissions = ewto_takedowns_delta(this)['new'] if is_incremental() else [] %}

with items as (
{%- if is_incremental() %}
    -- {{ new_submissions | length }} new current submission(s)
    select {{ lake_takedowns_columns() }}
    from {{ ewto_lake_files('takedowns', new_submissions) }}
    where submission_id in {{ ewto_submission_id_list(new_submissions) }}
{%- else %}
    -- every current file (macro ewto_current_lake_rows)
    {{ ewto_current_lake_rows('takedowns') }}
{%- endif %}
)

select
    cast(t.submission_id || ':' || cast(t.source_row as varchar) as varchar) as takedown_key,
    cast(t.submission_id as varchar) as submission_id,
    cast(t.org_id as varchar) as member_id,
    cast(t.platform_id as varchar) as platform_id,
    cast(t.period as varchar) as period,
    cast(t.month as date) as month,
    cast(t.source_row as bigint) as source_row,
    cast(t.record_id as varchar) as record_id,
    cast(t.content_type as varchar) as content_type,
    cast(t.detected_at as timestamp) as detected_at,
    cast(t.actioned_at as timestamp) as actioned_at,
    cast(t.detection_source as varchar) as detection_source,
    cast(t.detection_stage as varchar) as detection_stage,
    cast(t.action_type as varchar) as action_type,
    cast(t.commodity as varchar) as commodity,
    cast(t.seller_id as varchar) as seller_id,
    cast(t.species_scientific_name as varchar) as species_scientific_name,
    cast(t.cites_appendix as varchar) as cites_appendix,
    cast(t.seller_country as varchar) as seller_country,
    cast(t.price as double) as price,
    cast(t.currency as varchar) as currency,
    cast(t.appealed as boolean) as appealed,
    cast(t.restored as boolean) as restored,
    cast(t.referral_id as varchar) as referral_id
from items as t
