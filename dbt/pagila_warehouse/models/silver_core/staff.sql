with latest as ({{ latest_version(source('pagila_bronze', 'staff'), ['staff_id']) }})
select
    staff_id::integer as staff_id,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    address_id::integer as address_id,
    {{ clean_text('email') }} as email,
    store_id::integer as store_id,
    coalesce(active, false) as active,
    trim(username) as username,
    last_update
from latest
