{{ stage_webinar_registrations('teams') }}
