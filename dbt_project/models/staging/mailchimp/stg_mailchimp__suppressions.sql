{{ stage_email_suppressions('mailchimp') }}
