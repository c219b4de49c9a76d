"""Fine-tune all-MiniLM-L6-v2 with low-rank adapters as a COMPLETE/EVASIVE/DENIAL classifier, grouped by model.

    python bench/censorship/finetune_lora.py --prepare            # here: write bench/out/ft/ (data + fp16 model)
    python bench/censorship/finetune_lora.py --data bench/out/ft  # anywhere with PyTorch (a GPU makes it minutes)

Needs PyTorch and transformers (the `local` extra, or an accelerator machine's image). For each of validate.py's
five grouped folds it trains on the other models (SpeechMap + us_hard gold rows) and writes the held-out
probabilities (``oof.npy``) and that fold's adapter (``adapter-foldK.npz``); then it trains once on every model
except validate.py's SHIPPED_HOLDOUT (``adapter.npz``). Adapters are plain arrays: the low-rank factors of each
adapted weight (float16), their scale and the linear head. ``validate.py --embed --adapters bench/out/ft`` runs
them through the product's numpy encoder; see docs/validation-censorship.md.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
THREE = ["COMPLETE", "EVASIVE", "DENIAL"]
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")
SHIPPED_HOLDOUT = ("deepseek/deepseek-chat", "anthropic/claude-3-5-sonnet-20241022")


def prepare(out: Path) -> None:
    """Write the rows (answer head text, label, model, fold) and an fp16 copy of the MiniLM folder."""
    from safetensors.numpy import load_file, save_file
    from sklearn.model_selection import GroupKFold

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from data import gold_rows, speechmap_rows

    from modeldossier.censorship import features as F
    from modeldossier.censorship.classify import EMBED_CHARS
    from modeldossier.censorship.embedder import default_model_dir

    sm = speechmap_rows()
    rows = sm + gold_rows(consensus=True)
    models = np.array([r.model for r in rows])
    fold = np.full(len(rows), -1)
    for k, (_, te) in enumerate(GroupKFold(5).split(np.arange(len(sm)), groups=models[: len(sm)])):
        fold[te] = k
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "data.jsonl", "w", encoding="utf-8") as fh:
        for i, r in enumerate(rows):
            s = F.split_reasoning(r.record.response, r.record.reasoning)
            fh.write(json.dumps({"text": (s.answer or s.reasoning)[:EMBED_CHARS], "label": r.label, "model": r.model,
                                 "sm": i < len(sm), "fold": int(fold[i])}, ensure_ascii=False) + "\n")
    src = default_model_dir()
    weights = load_file(str(src / "model.safetensors"))
    save_file({k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in weights.items()},
              str(out / "model16.safetensors"))
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(src / name, out / name)


def main() -> int:  # noqa: PLR0915 - one linear experiment script
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepare", action="store_true")
    ap.add_argument("--data", type=Path, default=ROOT / "bench/out/ft")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--full", action="store_true", help="fine-tune every weight instead (comparison only)")
    ap.add_argument("--folds-only", action="store_true")
    ap.add_argument("--fold", type=int, action="append", default=None, help="only these folds (0-4; quick checks)")
    ap.add_argument("--max-len", type=int, default=256, help="tokens per answer")
    args = ap.parse_args()
    if args.prepare:
        prepare(args.data)
        return 0
    import torch
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertConfig, BertModel

    out = args.out or args.data
    out.mkdir(parents=True, exist_ok=True)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    rows = [json.loads(line) for line in (args.data / "data.jsonl").read_text(encoding="utf-8").splitlines()]
    tok = AutoTokenizer.from_pretrained(str(args.data))
    enc = tok([r["text"] for r in rows], truncation=True, max_length=args.max_len, padding="max_length",
              return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    y = torch.tensor([THREE.index(r["label"]) if r["label"] in THREE else -1 for r in rows])
    base_state = {k: v.float() if v.is_floating_point() else v
                  for k, v in load_file(str(args.data / "model16.safetensors")).items()}
    config = BertConfig.from_pretrained(str(args.data))

    class LoRA(torch.nn.Module):
        def __init__(self, lin: torch.nn.Linear, r: int) -> None:
            super().__init__()
            self.lin, self.scale = lin, 2.0
            self.a = torch.nn.Parameter(torch.randn(r, lin.in_features) / math.sqrt(lin.in_features))
            self.b = torch.nn.Parameter(torch.zeros(lin.out_features, r))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x) + (x @ self.a.T @ self.b.T) * self.scale

    def build(seed: int) -> tuple[torch.nn.Module, torch.nn.Linear, list[tuple[str, LoRA]]]:
        torch.manual_seed(seed)
        enc_model = BertModel(config, add_pooling_layer=False)
        enc_model.load_state_dict(base_state, strict=False)
        adapters = []
        if not args.full:
            for p in enc_model.parameters():
                p.requires_grad_(False)
            for name, module in list(enc_model.named_modules()):
                for t in TARGETS:
                    if name.endswith(t) and isinstance(module, torch.nn.Linear) and not name.endswith(
                            "attention.output.dense" if t == "output.dense" else "\0"):
                        parent = enc_model.get_submodule(name.rsplit(".", 1)[0])
                        lora = LoRA(module, args.rank)
                        setattr(parent, name.rsplit(".", 1)[1], lora)
                        adapters.append((name, lora))
        head = torch.nn.Linear(config.hidden_size, 3)
        return enc_model.to(dev), head.to(dev), adapters

    def embed(enc_model: torch.nn.Module, ix: torch.Tensor) -> torch.Tensor:
        h = enc_model(input_ids=ids[ix].to(dev), attention_mask=mask[ix].to(dev)).last_hidden_state
        m = mask[ix].to(dev).unsqueeze(-1).float()
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1)

    def train(train_ix: np.ndarray, seed: int = 0):
        enc_model, head, adapters = build(seed)
        params = [p for p in enc_model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW([{"params": params, "lr": args.lr if not args.full else 3e-5},
                                 {"params": head.parameters(), "lr": 2e-2}], weight_decay=0.01)
        steps = args.epochs * math.ceil(len(train_ix) / 32)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr if not args.full else 3e-5, 2e-2],
                                                    total_steps=steps, pct_start=0.1)
        gen = np.random.default_rng(seed)
        enc_model.train()
        for _ in range(args.epochs):
            order = gen.permutation(train_ix)
            for s in range(0, len(order), 32):
                ix = torch.tensor(order[s : s + 32])
                with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
                    logits = head(embed(enc_model, ix) * 20.0)
                loss = torch.nn.functional.cross_entropy(logits.float(), y[ix].to(dev))
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        enc_model.eval()
        return enc_model, head, adapters

    @torch.no_grad()
    def predict(enc_model, head, ix: np.ndarray) -> np.ndarray:
        outs = []
        for s in range(0, len(ix), 128):
            b = torch.tensor(ix[s : s + 128])
            outs.append(torch.softmax(head(embed(enc_model, b) * 20.0).float(), -1).cpu().numpy())
        return np.vstack(outs)

    def save_adapter(path: Path, head: torch.nn.Linear, adapters: list[tuple[str, LoRA]], meta: dict) -> None:
        """Plain arrays: per adapted weight its low-rank factors (float16) and scale; the head folds in x20."""
        arrays = {"format": np.array("modeldossier-minilm-lora/1"), "labels": np.array(THREE),
                  "head_weight": head.weight.detach().cpu().numpy().astype(np.float32) * 20.0,
                  "head_bias": head.bias.detach().cpu().numpy().astype(np.float32),
                  "names": np.array([n for n, _ in adapters]),
                  "scales": np.array([lora.scale for _, lora in adapters], dtype=np.float32),
                  "meta": np.array(json.dumps(meta, sort_keys=True))}
        for i, (_, lora) in enumerate(adapters):
            arrays[f"a_{i}"] = lora.a.detach().cpu().numpy().astype(np.float16)
            arrays[f"b_{i}"] = lora.b.detach().cpu().numpy().astype(np.float16)
        np.savez_compressed(path, **arrays)

    settings = {"rank": args.rank, "epochs": args.epochs, "lr": args.lr, "max_tokens": args.max_len}
    models = np.array([r["model"] for r in rows])
    fold = np.array([r["fold"] for r in rows])
    usable = (y >= 0).numpy()
    n_sm = sum(r["sm"] for r in rows)
    oof = np.zeros((n_sm, 3), dtype=np.float32)
    t0 = time.time()
    for k in args.fold or range(5):
        te = np.flatnonzero(fold == k)
        held = set(models[te])
        tr = np.flatnonzero(~np.isin(models, list(held)) & usable)
        enc_model, head, adapters = train(tr)
        oof[te] = predict(enc_model, head, te)
        if adapters:
            save_adapter(out / f"adapter-fold{k}.npz", head, adapters,
                         {**settings, "held_out_models": sorted(held), "fold": k})
        truth = y[te].numpy()
        print(f"fold {k}: acc {np.mean(oof[te].argmax(1) == truth):.3f} ({time.time() - t0:.0f}s)", flush=True)
        np.save(out / ("oof-full.npy" if args.full else "oof.npy"), oof)
    truth = y[:n_sm].numpy()
    ok = (truth >= 0) & (oof.sum(1) > 0)
    print(f"out-of-fold accuracy (3-way judge labels only): {np.mean(oof[ok].argmax(1) == truth[ok]):.3f}")
    if args.folds_only or args.full:
        return 0
    tr = np.flatnonzero(~np.isin(models, list(SHIPPED_HOLDOUT)) & usable)
    enc_model, head, adapters = train(tr)
    save_adapter(out / "adapter.npz", head, adapters, {**settings, "held_out_models": list(SHIPPED_HOLDOUT)})
    print(f"adapter: {len(adapters)} adapted weights ({time.time() - t0:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
