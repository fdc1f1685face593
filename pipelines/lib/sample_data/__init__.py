"""Realistic, fragmented sample exports (Salesforce, HubSpot, Mailchimp, SendGrid, Zoom) with ground truth.

Pure Python (numpy/pandas), no Dagster import. `generate(out_dir, contacts, seed, as_of)` writes the files.
"""

from pipelines.lib.sample_data.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
