{{ stage_crm_contacts(['hubspot']) }}
