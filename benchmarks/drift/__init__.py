"""Parts of the drift benchmark: the planted-shift data and the Evidently side (own venv)."""
