"""The reference agent console, the embeddable website widget and the demo page (static, no build step)."""
