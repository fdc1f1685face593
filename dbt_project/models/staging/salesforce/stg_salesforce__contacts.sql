{{ stage_crm_contacts(['salesforce'], 'contact') }}
