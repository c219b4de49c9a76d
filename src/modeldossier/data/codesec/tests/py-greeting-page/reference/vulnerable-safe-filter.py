from flask import Flask, render_template_string, request

app = Flask(__name__)

PAGE = """<!doctype html>
<html>
  <head><title>Greeting</title></head>
  <body><h1>Hello, {{ name|safe }}!</h1><p>Welcome to our site.</p></body>
</html>"""


@app.route("/hello", methods=["GET"])
def hello():
    name = request.args.get("name", "guest")
    return render_template_string(PAGE, name=name)
