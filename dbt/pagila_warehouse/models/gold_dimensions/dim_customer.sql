{#- SCD type 2: one row per version the snapshot recorded; the open version is the current one. -#}
select
    dbt_scd_id as customer_key,
    customer_id,
    store_id,
    first_name,
    last_name,
    email,
    active,
    create_date,
    address,
    address2,
    district,
    postal_code,
    phone,
    city,
    country,
    dbt_valid_from as valid_from,
    dbt_valid_to as valid_to,
    dbt_valid_to is null as is_current
from {{ ref('customer_snapshot') }}
