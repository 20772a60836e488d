"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py --workers 4 wsgi:app`.

gunicorn.conf.py wipes PROMETHEUS_MULTIPROC_DIR at start and marks exited workers dead, which
prometheus_client's multiprocess mode needs when several workers serve /metrics; set that
variable in the environment before gunicorn starts (README, "Operations").
"""

from hotline import create_app

app = create_app()
