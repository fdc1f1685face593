"""Realistic, fragmented sample exports (Salesforce, HubSpot, Mailchimp, SendGrid, Zoom) with ground truth.

A package of its own beside `pipelines/` (numpy, pandas, DuckDB; nothing from `pipelines`, which a test asserts:
tests/unit/foundation/test_import_graph.py). `generate(out_dir, contacts, seed, as_of)` writes the files.
"""

from touchplan_sample_data.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
