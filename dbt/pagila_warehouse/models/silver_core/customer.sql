with latest as ({{ latest_version(source('pagila_bronze', 'customer'), ['customer_id']) }})
select
    customer_id::integer as customer_id,
    store_id::integer as store_id,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    {{ clean_text('email') }} as email,
    address_id::integer as address_id,
    (coalesce(activebool, false) and coalesce(active, 1) = 1) as active,
    create_date,
    last_update
from latest
