with latest as ({{ latest_version(source('pagila_bronze', 'inventory'), ['inventory_id']) }})
select
    inventory_id::integer as inventory_id,
    film_id::integer as film_id,
    store_id::integer as store_id,
    last_update
from latest
