"""Customer satisfaction: a survey after resolution, in the customer's channel, and their rating."""
