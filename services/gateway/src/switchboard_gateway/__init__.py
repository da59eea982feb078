"""Gateway: the REST and WebSocket API for agent front ends and the website widget."""
