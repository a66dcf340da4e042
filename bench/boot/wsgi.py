# gunicorn entry point, as in the seed: gunicorn --workers=2 wsgi:app
from flask_app import app

if __name__ == "__main__":
    app.run()
