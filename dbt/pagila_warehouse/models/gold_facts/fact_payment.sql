select
    payment_id,
    payment_date,
    {{ date_key('payment_date') }} as payment_date_key,
    customer_id,
    staff_id,
    rental_id,
    amount
from {{ ref('payment') }}
