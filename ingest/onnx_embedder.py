"""The ONNX Runtime backend: ``onnx`` (fp32) and ``onnx-int8`` (dynamically quantized).

The local sentence-transformers model folder is exported once to ONNX (``torch.onnx``, eager
attention), its transformer layers fused by ONNX Runtime's transformer optimizer (one
``Attention``, ``SkipLayerNormalization`` and ``BiasGelu`` node per layer, as optimum's O2
does), and, for int8, quantized with ONNX Runtime's ``quantize_dynamic`` (int8 per-channel
weights of the MatMuls and fused Attention, activations quantized on the fly); the files are
cached under ``HEMICYCLE_HOME/cache/onnx``.  Nothing is downloaded.  The fusion is what makes
int8 pay on these AVX2 cores (no VNNI): unfused int8 ran 1.2-1.5× torch, fused 1.65-1.97×.  Encoding then needs neither torch nor transformers: the model's own
``tokenizer.json``, ONNX Runtime, mean pooling and L2 normalization, as the
sentence-transformers pipeline of all-MiniLM-L6-v2 does (Transformer → mean Pooling →
Normalize).

optimum-onnx (what sentence-transformers' ``backend="onnx"`` and
``export_dynamic_quantized_onnx_model`` need) pins transformers < 4.58, which conflicts with the
installed transformers 5, so the export is done here with the same two steps it runs.
"""

from __future__ import annotations

import hashlib
import logging
import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from .embedder import Embedder, LocalTokenizer, normalize_rows, resolve_model_path
from .errors import ConfigError

__all__ = ["OnnxEmbedder", "export_onnx"]

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_VERSION = "fused-v2"  # part of the cache key: a new export recipe builds new files
_EXPORT_LOCK = threading.Lock()


def _max_seq_length(model_dir: Path) -> int:
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())
                   ["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256


def _export_key(model_dir: Path) -> str:
    """The cache folder name: model folder and the size and time of its weights."""
    parts = [str(model_dir.resolve())]
    for weights in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        stat = weights.stat()
        parts.append(f"{weights.name}:{stat.st_size}:{int(stat.st_mtime)}")
    parts.append(_EXPORT_VERSION)
    return f"{model_dir.name}-{hashlib.sha1('|'.join(parts).encode()).hexdigest()[:10]}"


def export_onnx(model_dir: Path, cache_dir: Path, int8: bool) -> Path:
    """The ONNX file for ``model_dir`` (fp32 or int8), exported once into ``cache_dir``."""
    target = cache_dir / "onnx" / _export_key(model_dir)
    fp32, quantized = target / "model.onnx", target / "model-int8.onnx"
    wanted = quantized if int8 else fp32
    with _EXPORT_LOCK:
        if wanted.exists():
            return wanted
        target.mkdir(parents=True, exist_ok=True)
        if not fp32.exists():
            raw = target / f"model-raw.{os.getpid()}.tmp.onnx"
            _export_fp32(model_dir, raw)
            _fuse(raw, fp32, model_dir)
            raw.unlink(missing_ok=True)
        if int8 and not quantized.exists():
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = target / f"model-int8.{os.getpid()}.tmp.onnx"
            # per-channel int8 weights on the MatMuls and fused Attention only: cosine to fp32
            # 0.993 on real speeches, where per-tensor weights gave 0.952
            with _quiet_root_logger():  # it warns "consider pre-processing" at every export
                quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8,
                                 op_types_to_quantize=["MatMul", "Attention"], per_channel=True,
                                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            os.replace(tmp, quantized)
    return wanted


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """ONNX Runtime's quantizer and optimizer log warnings on the root logger: hide them."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _fuse(source: Path, path: Path, model_dir: Path) -> None:
    """ONNX Runtime's transformer fusions (attention, skip layer norm, bias GELU) for a
    BERT-like encoder; a model they do not match is written unchanged."""
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        config = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    with _quiet_root_logger():
        model = optimize_model(str(source), model_type="bert",
                               num_heads=int(config.get("num_attention_heads", 0)),
                               hidden_size=int(config.get("hidden_size", 0)), opt_level=1)
    tmp = path.with_name(f"model.{os.getpid()}.tmp.onnx")
    model.save_model_to_file(str(tmp))
    os.replace(tmp, path)


def _export_fp32(model_dir: Path, path: Path) -> None:
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer

    from .embedder import _quiet_transformers

    _quiet_transformers()
    try:
        # eager attention: the SDPA graph does not match ONNX Runtime's attention fusion
        model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot export {model_dir} to ONNX: {exc}") from None

    class Encoder(torch.nn.Module):  # keyword arguments: BertModel's positional order moved
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["a short sentence", "and a somewhat longer sentence to pad"],
                       padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "last_hidden_state")}
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(), tuple(sample[name] for name in _INPUTS), str(tmp),
                          input_names=list(_INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    os.replace(tmp, path)


@lru_cache(maxsize=4)
def _session(path: str, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class OnnxEmbedder(Embedder):
    """A sentence-transformers model (mean pooling) run by ONNX Runtime, fp32 or int8."""

    def __init__(self, model: str, cache_dir: Path, int8: bool = True, batch_size: int = 32,
                 threads: int = 0, spec: str | None = None) -> None:
        kind = "onnx-int8" if int8 else "onnx"
        super().__init__(model, "cpu", batch_size, spec=spec or kind)
        self.cache_dir = cache_dir
        self.int8 = int8
        self.threads = threads
        self._tokenizer_lock = threading.Lock()

    @property
    def model_dir(self) -> Path:
        path = Path(resolve_model_path(self.model_name))
        if not (path / "tokenizer.json").exists():
            raise ConfigError(f"embedder {self.spec!r}: {path} is not a local model folder "
                              "with a tokenizer.json")
        return path

    @property
    def model(self) -> Any:
        if self._model is None:
            model_dir = self.model_dir
            session = _session(str(export_onnx(model_dir, self.cache_dir, self.int8)),
                               self.threads)
            encoder = LocalTokenizer(str(model_dir)).backend_tokenizer
            encoder.enable_truncation(_max_seq_length(model_dir))
            encoder.no_padding()
            self._model = (session, encoder, {i.name for i in session.get_inputs()})
        return self._model

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer = LocalTokenizer(str(self.model_dir))
        return self._tokenizer

    @property
    def dimension(self) -> int:
        return int(self.encode(["dimension"]).shape[1])

    def encode(self, texts: Sequence[str]) -> Any:
        """Batches of similar length (little padding), mean-pooled and normalized."""
        import numpy as np

        session, encoder, inputs = self.model
        texts = list(texts)
        with self._tokenizer_lock:
            encodings = encoder.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start: start + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask,
                    "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {k: v for k, v in feed.items() if k in inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            if out.shape[1] == 0:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled
        return normalize_rows(out)
