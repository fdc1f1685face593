"""The marketer's report: figures from the warehouse, charts as SVG, one self-contained HTML file."""
