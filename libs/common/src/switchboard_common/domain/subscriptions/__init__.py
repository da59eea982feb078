"""Account webhooks: subscriptions, deliveries and the revision that invalidates caches."""
