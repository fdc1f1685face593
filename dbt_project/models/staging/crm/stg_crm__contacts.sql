{{ stage_crm_contacts(['zoho', 'dynamics', 'custom']) }}
