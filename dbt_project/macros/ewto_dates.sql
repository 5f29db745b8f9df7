{#- Date helpers shared by the models (DuckDB SQL). -#}

{#- A month-valued var ('YYYY-MM' or 'YYYY-MM-DD') as a DATE literal of the month's first day. -#}
{% macro month_literal(value) -%}
    {%- set v = (value | string | trim) -%}
    {%- if v | length < 7 or v[4] != '-' -%}
        {{ exceptions.raise_compiler_error("month_literal: expected 'YYYY-MM[-DD]', got '" ~ v ~ "'") }}
    {%- endif -%}
    date '{{ v[:7] }}-01'
{%- endmacro %}

{#- A date-valued var ('YYYY-MM-DD') as a DATE literal. -#}
{% macro date_literal(value) -%}
    date '{{ value | string | trim }}'
{%- endmacro %}

{#- expr (a DATE) shifted by n calendar months, as a DATE. -#}
{% macro add_months(expr, n) -%}
    cast(({{ expr }}) + to_months(cast({{ n }} as integer)) as date)
{%- endmacro %}

{#- Whole calendar months from start_month to end_month (both first days of a month). -#}
{% macro months_between(start_month, end_month) -%}
    date_diff('month', {{ start_month }}, {{ end_month }})
{%- endmacro %}

{#- 'YYYY-MM' text to the DATE of the month's first day. -#}
{% macro period_to_month(expr) -%}
    cast(strptime(({{ expr }}) || '-01', '%Y-%m-%d') as date)
{%- endmacro %}

{#- The evaluation date as_of ('YYYY-MM-DD'): the environment variable EWTO_AS_OF_DATE when
    set, else var as_of. A --vars value that changes (as_of moves every day) makes dbt
    re-parse the whole project. The environment variable is read only when dbt executes
    (`execute`), never while it parses: dbt records the environment variables a file reads at
    parse time and re-parses those files when one changes (about 1 s per build, as as_of moves
    with every build); read at execution, the value still reaches every compiled
    statement, and the parsed project does not depend on it (at parse time the macro returns
    var as_of, which no SQL that runs ever sees). -#}
{% macro as_of_value() -%}
    {%- if execute -%}
        {{ return(env_var('EWTO_AS_OF_DATE', var('as_of')) | string | trim) }}
    {%- else -%}
        {{ return(var('as_of') | string | trim) }}
    {%- endif -%}
{%- endmacro %}

{#- The instant at which reporting discipline is evaluated: as_of at 23:59:59 UTC. -#}
{% macro as_of_ts() -%}
    cast({{ date_literal(as_of_value()) }} + time '23:59:59' as timestamp)
{%- endmacro %}

{#- The first day of the month of as_of. -#}
{% macro as_of_month() -%}
    {{ month_literal(as_of_value()) }}
{%- endmacro %}

{#- A list var rendered as a SQL tuple of string literals: ('a', 'b'). -#}
{% macro sql_string_list(values) -%}
    ({%- for v in values -%}'{{ v | replace("'", "''") }}'{%- if not loop.last %}, {% endif -%}{%- endfor -%})
{%- endmacro %}
