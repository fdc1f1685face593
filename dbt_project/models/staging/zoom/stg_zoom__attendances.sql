{{ stage_webinar_attendances('zoom') }}
