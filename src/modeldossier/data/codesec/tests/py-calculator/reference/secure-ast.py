import ast
import operator

from flask import Flask, jsonify, request

app = Flask(__name__)
OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
       ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Pow: operator.pow, ast.Mod: operator.mod}


def _eval(node):
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        return OPS[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPS:
        return OPS[type(node.op)](_eval(node.operand))
    raise ValueError("unsupported expression")


@app.route("/calc", methods=["POST"])
def calc():
    payload = request.get_json(silent=True) or {}
    try:
        result = _eval(ast.parse(str(payload.get("expression", "")), mode="eval"))
    except (ValueError, SyntaxError, ZeroDivisionError) as e:
        return jsonify(error=str(e)), 400
    return jsonify(result=result)
