"""GET /healthz (placeholder until the job system lands)."""

from flask import Blueprint

bp = Blueprint("health", __name__)
