{#- First priority rules (P1 act now, P2 normal, P3 suggestion / low) with readable reasons.
    Expects columns risk_category, is_vip, sentiment_label, sentiment_score, ticket_priority,
    has_complaint_tag. Thresholds are project vars. -#}
{% macro feedback_priority() -%}
    case
        when risk_category is not null
            or (is_vip and sentiment_label = 'negative')
            or sentiment_score <= {{ var('voc_strong_negative_score') }}
            or ticket_priority = 'urgent'
            then 'P1'
        when sentiment_label = 'negative' or ticket_priority = 'high' or has_complaint_tag
            then 'P2'
        else 'P3'
    end as priority,
    coalesce(nullif(concat_ws('; ',
        case when risk_category is not null then 'risk: ' || risk_category end,
        case when is_vip and sentiment_label = 'negative' then 'VIP customer, negative' end,
        case when sentiment_score <= {{ var('voc_strong_negative_score') }} then 'strongly negative' end,
        case when ticket_priority in ('urgent', 'high') then 'ticket priority ' || ticket_priority end,
        case when sentiment_label = 'negative' and not (is_vip or sentiment_score <= {{ var('voc_strong_negative_score') }}) then 'negative' end,
        case when has_complaint_tag and sentiment_label <> 'negative' then 'complaint topic' end
    ), ''), 'no issue detected') as priority_reasons
{%- endmacro %}
