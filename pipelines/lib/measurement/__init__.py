"""Measurement: campaign outcomes against the holdout, uplift with intervals, KPIs per objective."""
