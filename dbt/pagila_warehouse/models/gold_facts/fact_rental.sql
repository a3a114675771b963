{#- One row per rental: its film and store (through inventory), how long it lasted, what was paid. -#}
with paid as (
    select rental_id, sum(amount) as amount, count(*) as payment_count
    from {{ ref('payment') }}
    group by rental_id
)
select
    r.rental_id,
    r.rental_date,
    r.return_date,
    {{ date_key('r.rental_date') }} as rental_date_key,
    r.customer_id,
    i.film_id,
    i.store_id,
    r.staff_id,
    r.inventory_id,
    round((extract(epoch from (r.return_date - r.rental_date)) / 86400)::numeric, 2)::numeric(8, 2) as rental_days,
    case
        when r.return_date is null then null
        else r.return_date > r.rental_date + make_interval(days => f.rental_duration)
    end as is_late,
    coalesce(p.amount, 0)::numeric(8, 2) as amount,
    coalesce(p.payment_count, 0)::integer as payment_count
from {{ ref('rental') }} as r
join {{ ref('inventory') }} as i on i.inventory_id = r.inventory_id
join {{ ref('film') }} as f on f.film_id = i.film_id
left join paid as p on p.rental_id = r.rental_id
