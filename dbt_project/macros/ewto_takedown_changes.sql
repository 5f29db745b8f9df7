{#- The change log of fct_takedowns, and what lets the checks and marts downstream of it work on
    what changed instead of all its rows (12 M at scale 1).

    fct_takedowns gains and loses rows by whole submission (a submission is one member and
    month). Its hooks record, in the same transaction as the rows, which submissions each run
    appended or pruned (table intermediate.fct_takedowns__changes: seq, invocation_id,
    logged_at, change = appended | pruned | rebuilt, submission_id, member_id, month); a full
    build records `rebuilt` and then `appended` for every submission it holds.

    A consumer (a KPI mart, or a uniqueness test on fct_takedowns) keeps in
    intermediate.fct_takedowns__marks the last seq it has taken into account. A mart writes its
    mark in a post-hook, in the transaction that writes its rows, so a mart skipped or failed in
    one run picks the same changes up in the next. A test's mark is written after the run, by
    the on-run-end hook, only if the test passed (ewto_record_verified): a failed check keeps
    its scope, so re-running the build fails again until the data are fixed.

    Both tables live in schema `intermediate`, which `ewto build` does not publish. Their
    names are spelled out in models/marts/_facts.yml too (test configs are rendered when dbt
    parses the project, where project macros are not available). -#}

{% macro ewto_changes_table() -%}intermediate.fct_takedowns__changes{%- endmacro %}
{% macro ewto_marks_table() -%}intermediate.fct_takedowns__marks{%- endmacro %}

{% macro ewto_changes_ddl() -%}
    create schema if not exists intermediate;
    create table if not exists {{ ewto_changes_table() }} (
        seq bigint not null,
        invocation_id varchar not null,
        logged_at timestamp not null,
        change varchar not null,
        submission_id varchar,
        member_id varchar,
        month date
    );
    create table if not exists {{ ewto_marks_table() }} (
        consumer varchar primary key,
        seq bigint not null,
        invocation_id varchar not null,
        updated_at timestamp not null
    )
{%- endmacro %}

{% macro ewto_changes_table_exists() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set sql -%}
        select count(*) from duckdb_tables()
        where database_name = current_database() and schema_name = 'intermediate'
          and table_name in ('fct_takedowns__changes', 'fct_takedowns__marks')
    {%- endset -%}
    {{ return(run_query(sql).rows[0][0] == 2) }}
{%- endmacro %}

{#- INSERT of change events from `select_sql` (columns change, submission_id, member_id,
    month), numbered after the last seq. -#}
{% macro ewto_log_changes(select_sql) -%}
    insert into {{ ewto_changes_table() }}
    select
        (select coalesce(max(seq), 0) from {{ ewto_changes_table() }})
            + row_number() over (order by e.change desc, e.submission_id),
        '{{ invocation_id }}',
        now()::timestamp,
        e.change,
        e.submission_id,
        e.member_id,
        e.month
    from ({{ select_sql }}) as e(change, submission_id, member_id, month)
{%- endmacro %}

{#- What an incremental run of fct_takedowns changes, from the change log (a few thousand
    rows) instead of the table: the submissions the table holds are those whose last event
    since the last `rebuilt` is `appended`. Returns {'new': rows (submission_id, org_id,
    period) of the current accepted submissions with rows that the table does not hold,
    'pruned': rows (submission_id, member_id, 'YYYY-MM') of those it holds that are no longer
    current}. Without a log yet (a warehouse built before it existed; the first pre-hook then
    creates it from the table), `new` is found by scanning the table and `pruned` is none.
    Runs at execution time only. -#}
{% macro ewto_takedowns_delta(relation) -%}
    {%- if not execute -%}{{ return({'new': [], 'pruned': []}) }}{%- endif -%}
    {%- if not ewto_changes_table_exists() -%}
        {{ return({'new': ewto_new_current_submissions('takedowns', relation), 'pruned': none}) }}
    {%- endif -%}
    {%- set sql -%}
        with rebuilt as (
            select coalesce(max(seq), 0) as seq from {{ ewto_changes_table() }} where change = 'rebuilt'
        ),
        held as (
            select submission_id, arg_max(member_id, seq) as member_id, arg_max(month, seq) as month
            from {{ ewto_changes_table() }}
            where change in ('appended', 'pruned') and seq > (select seq from rebuilt)
            group by submission_id
            having arg_max(change, seq) = 'appended'
        ),
        current_submissions as (
            select submission_id, org_id, period, row_count
            from {{ ref('int_submissions_current') }}
            where dataset = 'takedowns'
        )
        select 'new' as kind, c.submission_id, c.org_id, c.period
        from current_submissions as c
        where coalesce(c.row_count, 1) > 0
          and c.submission_id not in (select submission_id from held)
        union all
        select 'pruned', h.submission_id, h.member_id, strftime(h.month, '%Y-%m')
        from held as h
        where h.submission_id not in (select submission_id from current_submissions)
        order by 1, 2
    {%- endset -%}
    {%- set out = {'new': [], 'pruned': []} -%}
    {%- for r in run_query(sql).rows -%}
        {%- do out[r[0]].append([r[1], r[2], r[3]]) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- Pre-hooks of fct_takedowns (rendered and run one after the other inside the model's
    transaction; full builds: nothing). Incremental runs: (1) the log tables exist (created,
    with every submission already in the table logged as appended, when an older warehouse
    has none); (2) the submissions that are no longer the current accepted one of their org
    and period are logged as pruned, the new current ones as appended, and the pruned rows
    are deleted. -#}
{% macro ewto_takedowns_log_setup() -%}
    {%- if is_incremental() -%}
        {%- set existed = ewto_changes_table_exists() -%}
        {{ ewto_changes_ddl() }};
        {%- if not existed %}
        {{ ewto_log_changes("select 'rebuilt', null, null, null union all select distinct 'appended', submission_id, member_id, month from " ~ this) }};
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{% macro ewto_takedowns_log_run() -%}
    {%- if is_incremental() -%}
        {%- set delta = ewto_takedowns_delta(this) -%}
        {%- set events -%}
            select null, null, null, null where false
            {%- for s in delta['pruned'] %}
            union all select 'pruned', '{{ s[0] | replace("'", "''") }}', '{{ s[1] | replace("'", "''") }}', {{ period_to_month("'" ~ s[2] ~ "'") }}
            {%- endfor %}
            {%- for s in delta['new'] %}
            union all select 'appended', '{{ s[0] | replace("'", "''") }}', '{{ s[1] | replace("'", "''") }}', {{ period_to_month("'" ~ s[2] ~ "'") }}
            {%- endfor %}
        {%- endset -%}
        {{ ewto_log_changes(events) }};
        {%- if delta['pruned'] %}
        delete from {{ this }} where submission_id in {{ ewto_submission_id_list(delta['pruned']) }};
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of fct_takedowns: a full build (first build or --full-refresh) logs `rebuilt`
    (every consumer starts over) and every submission it holds as appended (the uniqueness
    tests then check all of them). -#}
{% macro ewto_takedowns_post_hook() -%}
    {%- if not is_incremental() -%}
        {{ ewto_changes_ddl() }};
        {{ ewto_log_changes("select 'rebuilt', null, null, null union all select distinct 'appended', submission_id, member_id, month from " ~ this) }}
    {%- endif -%}
{%- endmacro %}

{#- The (member_id, month) pairs whose takedowns changed since `consumer` last ran, as rows
    of (member_id, 'YYYY-MM-DD'); none when the consumer must start over (no mark yet, no log,
    or fct_takedowns rebuilt since). Runs at execution time only. -#}
{% macro ewto_changed_member_months(consumer) -%}
    {%- if not execute or not ewto_changes_table_exists() -%}{{ return(none) }}{%- endif -%}
    {%- set sql -%}
        with mark as (
            select max(seq) as seq from {{ ewto_marks_table() }} where consumer = '{{ consumer }}'
        )
        select
            (select seq from mark) is null
            or exists (
                select 1 from {{ ewto_changes_table() }} as c
                where c.change = 'rebuilt' and c.seq > (select seq from mark)
            )
    {%- endset -%}
    {%- if run_query(sql).rows[0][0] -%}{{ return(none) }}{%- endif -%}
    {%- set sql -%}
        select distinct member_id, strftime(month, '%Y-%m-%d') as month
        from {{ ewto_changes_table() }}
        where change in ('appended', 'pruned')
          and seq > (select max(seq) from {{ ewto_marks_table() }} where consumer = '{{ consumer }}')
        order by 1, 2
    {%- endset -%}
    {{ return(run_query(sql).rows) }}
{%- endmacro %}

{#- A SELECT of the `changed` member-months (rows of ewto_changed_member_months) as
    (member_id varchar, month date); no rows when there are none. -#}
{% macro ewto_member_months_select(changed) -%}
    {%- if changed | length == 0 -%}
        select cast(null as varchar) as member_id, cast(null as date) as month where false
    {%- else -%}
        select * from (values
            {%- for r in changed %}
            ('{{ r[0] | replace("'", "''") }}', date '{{ r[1] }}'){% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as c(member_id, month)
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a consumer mart keyed by member-month (incremental runs): delete the rows of
    the member-months it is about to recompute (all of them when it starts over). -#}
{% macro ewto_delete_changed_member_months(consumer) -%}
    {%- if is_incremental() -%}
        {%- set changed = ewto_changed_member_months(consumer) -%}
        {%- if changed is none -%}
            delete from {{ this }}
        {%- elif changed | length > 0 -%}
            delete from {{ this }} where (member_id, month) in ({{ ewto_member_months_select(changed) }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of a consumer mart: it has taken every change logged so far into account. -#}
{% macro ewto_mark_consumed(consumer) -%}
    {%- if not ewto_changes_table_exists() %}{{ ewto_changes_ddl() }};{% endif %}
    insert or replace into {{ ewto_marks_table() }}
    select '{{ consumer }}', coalesce(max(seq), 0), '{{ invocation_id }}', now()::timestamp
    from {{ ewto_changes_table() }}
{%- endmacro %}

{#- on-run-end: the data tests on fct_takedowns that declare `meta: {ewto_verifies: <mark>}`
    check only the submissions appended since their mark; when such a test passed in this
    run, its mark moves to the last change logged. A failed, skipped or unselected test keeps
    its mark (and so its scope). -#}
{% macro ewto_record_verified(results) -%}
    {%- set marks = [] -%}
    {%- if execute -%}
        {%- for r in results -%}
            {%- if r.node.resource_type == 'test' -%}
                {%- set key = (r.node.config.meta or {}).get('ewto_verifies') -%}
                {%- if key and r.status == 'pass' and key not in marks -%}
                    {%- do marks.append(key) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if marks -%}
        {%- if not ewto_changes_table_exists() %}{{ ewto_changes_ddl() }};{% endif %}
        {%- for key in marks %}
        insert or replace into {{ ewto_marks_table() }}
        select '{{ key }}', coalesce(max(seq), 0), '{{ invocation_id }}', now()::timestamp
        from {{ ewto_changes_table() }};
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
