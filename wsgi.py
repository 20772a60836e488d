"""WSGI entry point for gunicorn: `gunicorn --workers 4 wsgi:app`."""

from hotline import create_app

app = create_app()
