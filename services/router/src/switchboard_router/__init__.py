"""Router: assigns conversations to agents (presence, capacity, queue), safe with several replicas."""
