"""Satisfaction surveys: per-inbox settings and the widget's answer."""
