{#- Pagila partitions payment by month; bronze holds the partitioned table's rows as one table. -#}
with latest as ({{ latest_version(source('pagila_bronze', 'payment'), ['payment_id']) }})
select
    payment_id::integer as payment_id,
    customer_id::integer as customer_id,
    staff_id::integer as staff_id,
    rental_id::integer as rental_id,
    amount::numeric(5, 2) as amount,
    payment_date
from latest
