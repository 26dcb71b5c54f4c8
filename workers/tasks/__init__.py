"""Celery task modules. Each job task is named `jobs.<kind>`, takes the job id only and runs
its work through `workers.progress.run_job`."""
