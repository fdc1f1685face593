{{ stage_webinar_registrations('zoom') }}
