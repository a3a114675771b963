{#- A customer with their address, city and country: what the dim_customer snapshot records. -#}
{{ config(materialized='ephemeral') }}
select
    c.customer_id,
    c.store_id,
    c.first_name,
    c.last_name,
    c.email,
    c.active,
    c.create_date,
    a.address,
    a.address2,
    a.district,
    a.postal_code,
    a.phone,
    ci.city,
    co.country
from {{ ref('customer') }} as c
join {{ ref('address') }} as a on a.address_id = c.address_id
join {{ ref('city') }} as ci on ci.city_id = a.city_id
join {{ ref('country') }} as co on co.country_id = ci.country_id
