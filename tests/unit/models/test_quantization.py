import copy
import importlib.util

import pytest
import torch
from torch import nn
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

from localchain.errors import ConfigError, MissingDependencyError, UnsupportedOnDeviceError
from localchain.models import quantization
from localchain.models.generation import GenerationConfig, generate
from localchain.models.loading import load_model
from localchain.models.quantization import (
    QUANTIZATIONS,
    Int8WeightOnlyLinear,
    bitsandbytes_config,
    check_quantization,
    format_bytes,
    memory_footprint,
    quantize_int8_cpu,
)

CPU = torch.device("cpu")
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _linear_bytes(model: nn.Module) -> int:
    return sum(
        memory_footprint(m)
        for m in model.modules()
        if isinstance(m, nn.Linear | Int8WeightOnlyLinear)
    )


def _min_cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.reshape(-1, a.shape[-1]).float(), b.reshape(-1, b.shape[-1]).float()
    return nn.functional.cosine_similarity(a, b, dim=-1).min().item()


# --- check_quantization / bitsandbytes_config -------------------------------------------


def test_quantizations_listed():
    assert QUANTIZATIONS == (None, "int8", "nf4", "fp4")


@pytest.mark.parametrize("q", [None, "int8"])
def test_cpu_accepts_none_and_int8(q):
    check_quantization(q, CPU)
    check_quantization(q, "cpu")


def test_unknown_quantization_lists_valid_values():
    with pytest.raises(ConfigError, match=r"'int4'.*None, 'int8', 'nf4', 'fp4'"):
        check_quantization("int4", CPU)
    with pytest.raises(ValueError, match="Unknown quantization"):  # ConfigError is a ValueError
        check_quantization("INT8", CPU)


@pytest.mark.parametrize("q", ["nf4", "fp4"])
def test_four_bit_on_cpu_is_unsupported(q):
    with pytest.raises(UnsupportedOnDeviceError, match=f"4-bit {q} needs a CUDA GPU") as err:
        check_quantization(q, CPU)
    assert "quantization='int8' or None" in str(err.value)


@pytest.mark.parametrize("q", ["int8", "nf4", "fp4"])
def test_cuda_quantization_without_bitsandbytes(monkeypatch, q):
    monkeypatch.setattr(quantization, "_has_bitsandbytes", lambda: False)
    with pytest.raises(MissingDependencyError, match=r"pip install 'localchain\[gpu\]'"):
        check_quantization(q, torch.device("cuda:0"))
    with pytest.raises(ImportError):  # MissingDependencyError is an ImportError
        check_quantization(q, "cuda")


def test_cuda_quantization_with_bitsandbytes(monkeypatch):
    monkeypatch.setattr(quantization, "_has_bitsandbytes", lambda: True)
    for q in QUANTIZATIONS:
        check_quantization(q, torch.device("cuda"))


def test_bitsandbytes_config_int8():
    config = bitsandbytes_config("int8", torch.bfloat16)
    assert config.load_in_8bit is True
    assert config.load_in_4bit is False


@pytest.mark.parametrize("q", ["nf4", "fp4"])
def test_bitsandbytes_config_four_bit(q):
    config = bitsandbytes_config(q, torch.bfloat16)
    assert config.load_in_4bit is True
    assert config.load_in_8bit is False
    assert config.bnb_4bit_quant_type == q
    assert config.bnb_4bit_use_double_quant is True
    assert config.bnb_4bit_compute_dtype == torch.bfloat16


def test_bitsandbytes_config_default_compute_dtype_and_override():
    assert bitsandbytes_config("nf4").bnb_4bit_compute_dtype == torch.bfloat16
    assert bitsandbytes_config("nf4", torch.float16).bnb_4bit_compute_dtype == torch.float16


@pytest.mark.parametrize("q", [None, "int4"])
def test_bitsandbytes_config_rejects_none_and_unknown(q):
    with pytest.raises(ConfigError, match="'int8', 'nf4', 'fp4'"):
        bitsandbytes_config(q)


# --- Int8WeightOnlyLinear --------------------------------------------------------------


def test_from_linear_is_per_channel_symmetric():
    torch.manual_seed(0)
    linear = nn.Linear(64, 16)
    with torch.no_grad():
        linear.weight[3].zero_()  # an all-zero row must not divide by zero
    q = Int8WeightOnlyLinear.from_linear(linear)
    assert q.weight.dtype == torch.int8
    assert q.weight.shape == (16, 64)
    assert q.scales.shape == (16,)
    assert q.scales.dtype == torch.float32
    assert q.weight.abs().max() <= 127
    nonzero = [i for i in range(16) if i != 3]
    assert (q.weight[nonzero].abs().amax(dim=1) == 127).all()
    assert (q.weight[3] == 0).all()
    # Rounding error is at most half a quantization step per weight.
    err = (q.dequantized_weight() - linear.weight).abs()
    assert (err <= q.scales[:, None] / 2 + 1e-7).all()
    torch.testing.assert_close(q.bias, linear.bias)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("dtype", "in_features", "tol"),
    [
        (torch.float32, 64, 1e-5),
        (torch.float32, 33, 1e-5),
        (torch.bfloat16, 64, 2e-2),
        (torch.bfloat16, 40, 2e-2),  # K % 16 != 0: must take the fallback, not crash
        (torch.float16, 24, 2e-3),
    ],
)
def test_kernel_matches_dequantized_reference(bias, dtype, in_features, tol):
    torch.manual_seed(0)
    linear = nn.Linear(in_features, 24, bias=bias).to(dtype)
    q = Int8WeightOnlyLinear.from_linear(linear)
    x = torch.randn(2, 5, in_features, dtype=dtype)
    with torch.inference_mode():
        out = q(x)
        ref = x.float() @ q.dequantized_weight(torch.float32).T
        if bias:
            ref = ref + q.bias.float()
        q.use_kernel = False
        fallback = q(x)
    assert out.shape == (2, 5, 24)
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), ref, rtol=tol, atol=tol)
    torch.testing.assert_close(fallback.float(), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("in_features", [64, 40])
def test_bf16_compute_dtype_in_fp32_model(in_features):
    torch.manual_seed(0)
    linear = nn.Linear(in_features, 24)
    q = Int8WeightOnlyLinear.from_linear(linear, compute_dtype=torch.bfloat16)
    x = torch.randn(3, in_features)
    with torch.inference_mode():
        out = q(x)
    ref = x @ q.dequantized_weight().T + q.bias
    assert out.dtype == torch.float32
    # bf16 keeps 8 bits of mantissa: activations and products round to ~0.4%.
    torch.testing.assert_close(out, ref, rtol=3e-2, atol=3e-2)
    model = nn.Sequential(nn.Linear(in_features, 8))
    quantize_int8_cpu(model, compute_dtype=torch.bfloat16)
    assert model[0].compute_dtype == torch.bfloat16


@pytest.mark.skipif(not quantization._HAS_INT8PACK_MM, reason="torch has no int8 kernel")
def test_kernel_is_used_on_cpu(monkeypatch):
    calls = []
    real = torch._weight_int8pack_mm

    def spy(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(torch, "_weight_int8pack_mm", spy)
    q = Int8WeightOnlyLinear.from_linear(nn.Linear(32, 8))
    with torch.inference_mode():
        q(torch.randn(3, 32))
    assert len(calls) == 1
    x2d, w, s = calls[0]
    assert x2d.shape == (3, 32)
    assert w.dtype == torch.int8
    assert s.dtype == torch.float32


def test_grad_flows_to_inputs_through_fallback():
    q = Int8WeightOnlyLinear.from_linear(nn.Linear(16, 4))
    x = torch.randn(2, 16, requires_grad=True)
    q(x).sum().backward()
    assert x.grad is not None
    assert x.grad.shape == (2, 16)


# --- quantize_int8_cpu and memory_footprint ---------------------------------------------


def test_linear_heavy_module_shrinks_about_four_times():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(256, 512), nn.GELU(), nn.Linear(512, 256, bias=False))
    before = memory_footprint(model)
    assert before == (256 * 512 + 512 + 512 * 256) * 4
    assert quantize_int8_cpu(model) == 2
    after = memory_footprint(model)
    # int8 weights plus fp32 scales and bias: a bit under 4x smaller.
    assert after == 256 * 512 * 2 + (512 + 512 + 256) * 4
    assert 3.5 < before / after <= 4


def test_skip_matches_names_and_subtrees():
    model = nn.ModuleDict(
        {
            "encoder": nn.ModuleDict({"q": nn.Linear(4, 4), "k": nn.Linear(4, 4)}),
            "decoder": nn.ModuleDict({"q": nn.Linear(4, 4), "k": nn.Linear(4, 4)}),
            "lm_head": nn.Linear(4, 8),
        }
    )
    assert quantize_int8_cpu(model, skip=("decoder", "k")) == 2
    assert isinstance(model["encoder"]["q"], Int8WeightOnlyLinear)
    assert type(model["encoder"]["k"]) is nn.Linear
    assert type(model["decoder"]["q"]) is nn.Linear
    # An explicit skip replaces the default ("lm_head",).
    assert isinstance(model["lm_head"], Int8WeightOnlyLinear)
    assert quantize_int8_cpu(model, skip=()) == 3
    assert quantize_int8_cpu(model, skip=()) == 0  # nothing left to replace


def test_skip_matches_middle_components_only_whole():
    model = nn.ModuleDict(
        {
            "block": nn.ModuleDict(
                {
                    "attn": nn.ModuleDict({"q": nn.Linear(4, 4), "qkv": nn.Linear(4, 12)}),
                    "mlp": nn.ModuleDict({"up": nn.Linear(4, 8)}),
                }
            )
        }
    )
    assert quantize_int8_cpu(model, skip=("mlp", "q")) == 1
    assert isinstance(model["block"]["attn"]["qkv"], Int8WeightOnlyLinear)
    assert type(model["block"]["attn"]["q"]) is nn.Linear
    assert type(model["block"]["mlp"]["up"]) is nn.Linear


def test_linear_subclasses_are_left_alone():
    mha = nn.MultiheadAttention(16, 2, batch_first=True)
    assert quantize_int8_cpu(mha) == 0
    x = torch.randn(1, 3, 16)
    mha(x, x, x)


def test_memory_footprint_dedupes_tied_weights():
    emb = nn.Embedding(100, 8)
    head = nn.Linear(8, 100, bias=False)
    model = nn.ModuleDict({"emb": emb, "head": head})
    assert memory_footprint(model) == 2 * 100 * 8 * 4
    head.weight = emb.weight
    assert memory_footprint(model) == 100 * 8 * 4
    model.register_buffer("view", emb.weight.data[:10])  # shares the storage's start
    assert memory_footprint(model) == 100 * 8 * 4


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (12_900_000, "12.3 MiB"),
        (3 << 30, "3.0 GiB"),
    ],
)
def test_format_bytes(n, text):
    assert format_bytes(n) == text


# --- tiny transformers checkpoints ------------------------------------------------------


@pytest.fixture
def tiny_decoder(tiny_decoder_path):
    return AutoModelForCausalLM.from_pretrained(tiny_decoder_path, dtype=torch.float32).eval()


def test_tiny_llama_int8_logits_and_generate(tiny_decoder, tiny_decoder_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_decoder_path)
    ids = tokenizer("What is the capital of France?", return_tensors="pt").input_ids
    tied = (
        tiny_decoder.lm_head.weight.data_ptr() == tiny_decoder.model.embed_tokens.weight.data_ptr()
    )
    assert tied
    linear_before = _linear_bytes(tiny_decoder)
    total_before = memory_footprint(tiny_decoder)
    with torch.inference_mode():
        ref = tiny_decoder(ids).logits

    replaced = quantize_int8_cpu(tiny_decoder)
    assert replaced == 2 * 7  # q, k, v, o, gate, up, down per layer; lm_head skipped
    assert type(tiny_decoder.lm_head) is nn.Linear
    assert tiny_decoder.lm_head.weight is tiny_decoder.model.embed_tokens.weight  # still tied

    # Linear weights shrink ~4x (scales add 4 bytes per output row); the tied embedding is
    # counted once and unchanged, and it dominates the tiny model's total.
    quantized = [m for m in tiny_decoder.modules() if isinstance(m, Int8WeightOnlyLinear)]
    linear_after = sum(memory_footprint(m) for m in quantized) + memory_footprint(
        tiny_decoder.lm_head
    )
    head = memory_footprint(tiny_decoder.lm_head)
    assert (linear_before - head) / (linear_after - head) > 3
    assert total_before - memory_footprint(tiny_decoder) == (linear_before - linear_after)

    with torch.inference_mode():
        logits = tiny_decoder(ids).logits
    # Per-channel int8 keeps each weight within absmax/254, so the logit vectors barely turn.
    assert _min_cosine(logits, ref) > 0.99
    assert (logits - ref).abs().max() < 0.05 * ref.abs().max()

    out = tiny_decoder.generate(ids, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > ids.shape[1]


def test_tiny_llama_quantized_lm_head_is_an_extra_int8_copy(tiny_decoder):
    ids = torch.tensor([[1, 5, 9, 20, 33]])
    with torch.inference_mode():
        ref = tiny_decoder(ids).logits
    skipped = copy.deepcopy(tiny_decoder)
    quantize_int8_cpu(skipped)
    assert quantize_int8_cpu(tiny_decoder, skip=()) == 2 * 7 + 1
    assert isinstance(tiny_decoder.lm_head, Int8WeightOnlyLinear)
    assert tiny_decoder.model.embed_tokens.weight.dtype == torch.float32
    # The float embedding stays; the head adds an int8 copy plus one fp32 scale per row.
    vocab, hidden = tiny_decoder.model.embed_tokens.weight.shape
    extra = memory_footprint(tiny_decoder) - memory_footprint(skipped)
    assert extra == vocab * hidden + vocab * 4
    with torch.inference_mode():
        logits = tiny_decoder(ids).logits
    assert _min_cosine(logits, ref) > 0.99
    out = tiny_decoder.generate(ids, max_new_tokens=6, do_sample=False)
    assert out.shape[1] > ids.shape[1]


def test_tiny_t5_int8_logits_and_generate(tiny_t5_path):
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_path, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_t5_path)
    enc = tokenizer("Translate to German: good morning.", return_tensors="pt")
    start = model.config.decoder_start_token_id
    dec = torch.tensor([[start, 5, 7, 11]])
    with torch.inference_mode():
        ref = model(**enc, decoder_input_ids=dec).logits
    linear_before = _linear_bytes(model)

    replaced = quantize_int8_cpu(model)
    assert replaced > 0
    assert all(
        name.endswith("lm_head") or isinstance(m, Int8WeightOnlyLinear)
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear | Int8WeightOnlyLinear)
    )
    assert _linear_bytes(model) < linear_before

    with torch.inference_mode():
        logits = model(**enc, decoder_input_ids=dec).logits
    # Each int8 weight is off by ~0.5% of its row's spread; through 4 blocks of a random T5
    # (std-0.5 weights, unscaled attention) that compounds to a ~2% turn of the worst logit
    # vector (measured min cosine 0.982; 0.995 with either attention or MLP left in float).
    assert _min_cosine(logits, ref) > 0.97
    assert (logits.argmax(-1) == ref.argmax(-1)).float().mean() >= 0.75
    out = model.generate(**enc, max_new_tokens=8, do_sample=False)
    assert out.shape[1] >= 2


# --- on a CUDA GPU, through load_model ---------------------------------------------------
# These run wherever a CUDA GPU is present (`make test-gpu`); the 4-bit and int8 ones also need
# bitsandbytes (the `gpu` extra). Each skip names what is missing.

_MISSING_FOR_BITSANDBYTES = [
    what
    for what, missing in [
        ("a CUDA GPU", not torch.cuda.is_available()),
        (
            "bitsandbytes (pip install 'localchain[gpu]')",
            importlib.util.find_spec("bitsandbytes") is None,
        ),
    ]
    if missing
]
needs_gpu_and_bitsandbytes = pytest.mark.skipif(
    bool(_MISSING_FOR_BITSANDBYTES), reason="needs " + " and ".join(_MISSING_FOR_BITSANDBYTES)
)
GPU_PROMPT = "What is the capital of France?"


def _first_logits(lm) -> torch.Tensor:
    enc = lm.tokenizer(GPU_PROMPT, return_tensors="pt").to(lm.device)
    with torch.no_grad():
        return lm.model(**enc).logits[0].float()


def _transformers_greedy(lm, max_new_tokens: int) -> list[int]:
    enc = lm.tokenizer(GPU_PROMPT, return_tensors="pt").to(lm.device)
    out = lm.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
    ids = []
    for token in out[0, enc["input_ids"].shape[1] :].tolist():
        if token in lm.eos_token_ids:
            break
        ids.append(token)
    return ids


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_load_model_half_precision_on_cuda(tiny_decoder_path, dtype):
    lm = load_model(str(tiny_decoder_path), device="cuda", dtype=dtype)
    assert lm.device.type == "cuda" and lm.quantization is None
    assert lm.dtype == getattr(torch, dtype)
    assert {p.dtype for p in lm.model.parameters()} == {getattr(torch, dtype)}
    assert {p.device.type for p in lm.model.parameters()} == {"cuda"}
    fp32 = load_model(str(tiny_decoder_path), device="cpu", dtype="float32")
    assert lm.memory_footprint < 0.6 * fp32.memory_footprint  # half the bytes, bar fp32 buffers
    [out] = generate(lm, [GPU_PROMPT], GenerationConfig(max_new_tokens=8))
    assert out.token_ids == _transformers_greedy(lm, 8)  # our decode loop == transformers'


@pytest.mark.gpu
@needs_gpu_and_bitsandbytes
@pytest.mark.parametrize("q", ["int8", "nf4", "fp4"])
def test_load_model_quantizes_with_bitsandbytes_on_cuda(tiny_decoder_path, q):
    import bitsandbytes as bnb

    full = load_model(str(tiny_decoder_path), device="cuda", dtype="float16")
    lm = load_model(str(tiny_decoder_path), device="cuda", dtype="float16", quantization=q)
    assert lm is not full and lm.quantization == q and lm.device.type == "cuda"
    # Every projection in the decoder blocks is a bitsandbytes layer of the asked-for kind.
    projections = [
        name
        for name, m in full.model.named_modules()
        if isinstance(m, nn.Linear) and ".layers." in name
    ]
    assert projections
    layers = dict(lm.model.named_modules())
    for name in projections:
        layer = layers[name]
        if q == "int8":
            assert isinstance(layer, bnb.nn.Linear8bitLt), name
            assert layer.weight.dtype == torch.int8, name
        else:
            assert isinstance(layer, bnb.nn.Linear4bit), name
            assert layer.weight.quant_type == q, name  # nf4 and fp4 are really different
    assert lm.memory_footprint < full.memory_footprint
    # Close to the unquantized model (measured bounds are loose: a tiny random model).
    cosine = nn.functional.cosine_similarity(_first_logits(lm), _first_logits(full), dim=-1)
    floor = 0.9 if q == "int8" else 0.7
    assert cosine.mean().item() > floor, f"{q}: mean cosine {cosine.mean().item():.3f}"
    # The localchain decode loop runs on it and agrees with transformers' own generate.
    [out] = generate(lm, [GPU_PROMPT], GenerationConfig(max_new_tokens=8))
    assert out.completion_tokens >= 1
    assert out.token_ids == _transformers_greedy(lm, 8)
