"""Reports: rollups built from the event stream, the summary and live floor endpoints."""
