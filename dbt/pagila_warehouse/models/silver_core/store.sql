with latest as ({{ latest_version(source('pagila_bronze', 'store'), ['store_id']) }})
select
    store_id::integer as store_id,
    manager_staff_id::integer as manager_staff_id,
    address_id::integer as address_id,
    last_update
from latest
