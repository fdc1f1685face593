{{ stage_email_suppressions('sendgrid') }}
