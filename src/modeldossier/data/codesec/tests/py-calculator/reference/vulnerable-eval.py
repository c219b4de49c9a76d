from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/calc", methods=["POST"])
def calc():
    data = request.get_json()
    result = eval(data["expression"])
    return jsonify({"result": result})
