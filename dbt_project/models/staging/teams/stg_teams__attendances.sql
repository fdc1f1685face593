{{ stage_webinar_attendances('teams') }}
