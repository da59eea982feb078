"""Dialogflow: fulfillment webhook, detectIntent client, the bot worker."""
