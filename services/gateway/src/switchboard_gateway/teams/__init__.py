"""Teams of agents that inboxes route to."""
