{#- Every day (UTC) from the first to the last rental, return or payment. -#}
with moments as (
    select rental_date as moment from {{ ref('rental') }}
    union all
    select return_date from {{ ref('rental') }} where return_date is not null
    union all
    select payment_date from {{ ref('payment') }}
),
bounds as (
    select
        min(moment at time zone 'UTC')::date as first_day,
        max(moment at time zone 'UTC')::date as last_day
    from moments
),
days as (
    select generate_series(first_day, last_day, interval '1 day')::date as date_day
    from bounds
)
select
    to_char(date_day, 'YYYYMMDD')::integer as date_key,
    date_day,
    extract(year from date_day)::integer as year,
    extract(quarter from date_day)::integer as quarter,
    extract(month from date_day)::integer as month,
    extract(day from date_day)::integer as day_of_month,
    extract(isodow from date_day)::integer as day_of_week,
    trim(to_char(date_day, 'Day')) as day_name,
    trim(to_char(date_day, 'Month')) as month_name,
    extract(isodow from date_day) in (6, 7) as is_weekend
from days
