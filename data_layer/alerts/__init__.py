"""Anomaly detection, suggested actions and the detector's evaluation."""
