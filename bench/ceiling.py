"""The ceiling of the inbound benchmark: a Flask app that does nothing, served by the same gunicorn command."""
from flask import Flask
from flask import Response
from flask import request

app = Flask(__name__)


@app.get("/healthz")
def health():
    return Response("ok", mimetype="text/plain")


@app.post("/webhooks/twilio/sms")
def nothing():
    """Reads the form as the real webhook does, answers the same empty TwiML."""
    request.form.get("Body")
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', mimetype="text/xml")
