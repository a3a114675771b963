-- each customer with the number and the total of their orders
select
    c.customer_id,
    c.customer_name,
    count(o.order_id) as order_count,
    coalesce(sum(o.amount), 0) as lifetime_value,
    min(o.ordered_at) as first_order
from {{ ref('stg_customers') }} as c
left join {{ ref('stg_orders') }} as o on o.customer_id = c.customer_id
group by c.customer_id, c.customer_name
