with latest as ({{ latest_version(source('pagila_bronze', 'rental'), ['rental_id']) }})
select
    rental_id::integer as rental_id,
    rental_date,
    inventory_id::integer as inventory_id,
    customer_id::integer as customer_id,
    return_date,
    staff_id::integer as staff_id,
    last_update
from latest
