{{ stage_crm_deals(['salesforce']) }}
