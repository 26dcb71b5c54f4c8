"""Figures: plain functions from data to a `go.Figure`, tested without a browser."""
