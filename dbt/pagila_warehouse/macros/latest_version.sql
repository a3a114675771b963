{#-
  The latest version of each business key in a bronze table: the row of the last load
  (dk_loaded_at), then the greatest batch id when two batches were loaded at the same time.
-#}
{% macro latest_version(relation, key) -%}
    select * from (
        select
            src.*,
            row_number() over (
                partition by {{ key | join(', ') }}
                order by dk_loaded_at desc, dk_batch_id desc
            ) as dk_version_rank
        from {{ relation }} as src
    ) as ranked
    where dk_version_rank = 1
{%- endmacro %}

{#- Text trimmed, and empty text as NULL (for optional columns). -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- A day as the integer YYYYMMDD (in UTC), the key of dim_date. -#}
{% macro date_key(column) -%}
    to_char(({{ column }}) at time zone 'UTC', 'YYYYMMDD')::integer
{%- endmacro %}
