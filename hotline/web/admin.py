"""Administration: agencies, users, deadline policies, routing rules upload."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
