{{ stage_crm_deals(['hubspot']) }}
