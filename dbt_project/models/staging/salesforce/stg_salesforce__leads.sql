{{ stage_crm_contacts(['salesforce'], 'lead') }}
