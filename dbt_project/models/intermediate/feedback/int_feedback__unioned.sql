{#- One row per piece of customer feedback from every source, with the customer's own words
    and the strong identifiers it carries. Tickets: the subject plus the customer's messages
    only (agent and system messages are not customer feedback). -#}
with
    surveys as (select * from {{ ref('stg_surveys__responses') }}),

    tickets as (select * from {{ ref('stg_tickets__tickets') }}),

    ticket_customer_messages as (
        select ticket_id, {{ dbt.listagg('body', "'\n'", 'order by message_index') }} as customer_messages
        from {{ ref('stg_tickets__messages') }}
        where author_role = 'customer' and body is not null
        group by ticket_id
    ),

    reviews as (select * from {{ ref('stg_reviews__reviews') }}),

    posts as (select * from {{ ref('stg_social__posts') }}),

    unioned as (
        select
            'survey:' || response_id as feedback_id,
            'survey' as source,
            response_id as source_record_id,
            channel,
            submitted_at as created_at,
            updated_at,
            comment as customer_text,
            store_id,
            product_sku,
            order_id,
            nps as rating_nps,
            csat as rating_csat,
            ces as rating_ces,
            cast(null as integer) as rating_stars,
            cast(null as {{ dbt.type_string() }}) as ticket_priority,
            member_id,
            phone,
            email,
            unionid,
            cast(null as {{ dbt.type_string() }}) as account_platform,
            cast(null as {{ dbt.type_string() }}) as account_id
        from surveys

        union all

        select
            'ticket:' || tickets.ticket_id,
            'ticket',
            tickets.ticket_id,
            tickets.channel,
            tickets.created_at,
            tickets.updated_at,
            {{ dbt.concat(["coalesce(tickets.subject, '')", "'\n'", "coalesce(ticket_customer_messages.customer_messages, '')"]) }},
            tickets.store_id,
            tickets.product_sku,
            cast(null as {{ dbt.type_string() }}),
            cast(null as integer),
            cast(null as integer),
            cast(null as integer),
            cast(null as integer),
            tickets.priority,
            tickets.member_id,
            tickets.phone,
            tickets.email,
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }})
        from tickets
        left join ticket_customer_messages on tickets.ticket_id = ticket_customer_messages.ticket_id

        union all

        select
            'review:' || review_id,
            'review',
            review_id,
            platform,
            created_at,
            modified_at,
            content,
            cast(null as {{ dbt.type_string() }}),
            product_sku,
            order_id,
            cast(null as integer),
            cast(null as integer),
            cast(null as integer),
            rating,
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            platform,
            buyer_open_id
        from reviews

        union all

        -- An append review (追评) is a second piece of feedback from the same buyer on the same order.
        select
            'review:' || review_id || ':append',
            'review',
            review_id,
            platform,
            coalesce(append_at, modified_at, created_at),
            modified_at,
            append_content,
            cast(null as {{ dbt.type_string() }}),
            product_sku,
            order_id,
            cast(null as integer),
            cast(null as integer),
            cast(null as integer),
            cast(null as integer),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            platform,
            buyer_open_id
        from reviews
        where nullif(trim(append_content), '') is not null

        union all

        select
            'social:' || post_id,
            'social',
            post_id,
            platform,
            published_at,
            published_at,
            post_text,
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as integer),
            cast(null as integer),
            cast(null as integer),
            cast(null as integer),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            cast(null as {{ dbt.type_string() }}),
            platform,
            author_uid
        from posts
    )

select *
from unioned
