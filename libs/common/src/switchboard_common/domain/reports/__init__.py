"""Reports from aggregates only: hourly rollups built from the event stream (docs/reports.md)."""
