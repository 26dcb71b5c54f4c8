"""Worker and beat entry point: `celery -A workers.entry worker` / `celery -A workers.entry beat`.

Builds the Flask app from the environment so that tasks find the database, the data
directory and Redis bound exactly as in the web process, then registers the tasks. The
Flask app is deliberately not called `app`: Celery's `-A` lookup would take it for the
Celery application.
"""

from dashboard import create_app
from workers.celery_app import load_tasks

flask_app = create_app()
celery = load_tasks()

__all__ = ["celery", "flask_app"]
