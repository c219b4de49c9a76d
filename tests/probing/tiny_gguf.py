"""Write a tiny random-weights llama GGUF (2 layers, 64 dims) with a real vocabulary, for llama.cpp tests.

    python tests/probing/tiny_gguf.py VOCAB.gguf OUT.gguf

The vocabulary (tokens, scores, types, special ids) is copied from a llama.cpp vocab-only GGUF such as
``ggml-vocab-llama-spm.gguf``; the weights are seeded random numbers, so the model answers gibberish,
which is all an end-to-end engine test needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gguf
import numpy as np

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def _field(reader: gguf.GGUFReader, key: str):
    field = reader.fields[key]
    return field.contents()


def write_tiny_llama(vocab_path: Path, out: Path, *, n_embd: int = 64, n_layers: int = 2, n_head: int = 4,
                     n_ff: int = 128, n_ctx: int = 512, seed: int = 0) -> Path:
    """Write the model and return its path."""
    reader = gguf.GGUFReader(str(vocab_path))
    tokens = _field(reader, "tokenizer.ggml.tokens")
    n_vocab = len(tokens)
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name("tiny-random-llama")
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_vocab_size(n_vocab)
    writer.add_tokenizer_model(_field(reader, "tokenizer.ggml.model"))
    if "tokenizer.ggml.pre" in reader.fields:
        writer.add_tokenizer_pre(_field(reader, "tokenizer.ggml.pre"))
    writer.add_token_list(tokens)
    writer.add_token_scores(_field(reader, "tokenizer.ggml.scores"))
    writer.add_token_types(_field(reader, "tokenizer.ggml.token_type"))
    writer.add_bos_token_id(int(_field(reader, "tokenizer.ggml.bos_token_id")))
    writer.add_eos_token_id(int(_field(reader, "tokenizer.ggml.eos_token_id")))
    if "tokenizer.ggml.unknown_token_id" in reader.fields:
        writer.add_unk_token_id(int(_field(reader, "tokenizer.ggml.unknown_token_id")))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)
    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    writer.add_tensor("token_embd.weight", rand(n_vocab, n_embd))
    for i in range(n_layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", rand(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", rand(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", rand(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", rand(n_embd, n_ff))
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    writer.add_tensor("output.weight", rand(n_vocab, n_embd))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


if __name__ == "__main__":
    print(write_tiny_llama(Path(sys.argv[1]), Path(sys.argv[2])))
