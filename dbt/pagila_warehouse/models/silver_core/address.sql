with latest as ({{ latest_version(source('pagila_bronze', 'address'), ['address_id']) }})
select
    address_id::integer as address_id,
    trim(address) as address,
    {{ clean_text('address2') }} as address2,
    trim(district) as district,
    city_id::integer as city_id,
    {{ clean_text('postal_code') }} as postal_code,
    trim(phone) as phone,
    last_update
from latest
