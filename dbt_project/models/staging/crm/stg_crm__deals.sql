{{ stage_crm_deals(['zoho', 'dynamics', 'custom']) }}
