"""Retention policies per account and data category, applied by continuous small-batch sweeps."""
