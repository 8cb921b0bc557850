import json
import shutil

import pytest
import torch

from localchain.errors import AdapterError
from localchain.models import adapters as adapters_module
from localchain.models.adapters import (
    AdapterManager,
    find_adapter,
    list_adapters,
    register_adapter,
    unregister_adapter,
)
from localchain.models.generation import GenerationConfig, generate

PROMPTS = ["The capital of France is", "hello", "Summarize: the cat sat on the mat and"]
CONFIG = GenerationConfig(max_new_tokens=8)


def _make_adapter(model, out, *, seed, targets, task_type=None):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(
        r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False, task_type=task_type
    )
    get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def adapter_dirs(tiny_decoder_path, tiny_t5_path, tmp_path_factory):
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSeq2SeqLM,
        LlamaConfig,
        LlamaForCausalLM,
    )

    root = tmp_path_factory.mktemp("adapters")

    def decoder():
        return AutoModelForCausalLM.from_pretrained(tiny_decoder_path)

    def t5():
        return AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_path)

    small = LlamaConfig(
        vocab_size=decoder().config.vocab_size,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=128,
    )
    return {
        "dec_a": _make_adapter(decoder(), root / "dec_a", seed=1, targets=["q_proj", "v_proj"]),
        "dec_b": _make_adapter(
            decoder(), root / "dec_b", seed=2, targets=["o_proj", "up_proj"], task_type="CAUSAL_LM"
        ),
        "t5_a": _make_adapter(t5(), root / "t5_a", seed=3, targets=["q", "v"]),
        "t5_b": _make_adapter(t5(), root / "t5_b", seed=4, targets=["o", "wo"]),
        "t5_typed": _make_adapter(
            t5(), root / "t5_typed", seed=5, targets=["q", "v"], task_type="SEQ_2_SEQ_LM"
        ),
        "small": _make_adapter(
            LlamaForCausalLM(small), root / "small", seed=6, targets=["q_proj", "v_proj"]
        ),
    }


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCALCHAIN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _tokens(lm, prompts, adapters=None):
    return [c.token_ids for c in generate(lm, prompts, CONFIG, adapters=adapters)]


def _logits(lm, prompt, adapter=None):
    """Next-token logits for one prompt (first decoder step for seq2seq)."""
    enc = lm.tokenizer(prompt, return_tensors="pt")
    kwargs = {}
    if lm.adapters.names():
        kwargs["adapter_names"] = [lm.adapters.resolve(adapter)]
    if lm.kind == "seq2seq":
        start = torch.tensor([[lm.model.config.decoder_start_token_id]])
        kwargs["decoder_input_ids"] = start
    with torch.inference_mode():
        out = lm.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], **kwargs)
    return out.logits[0, -1]


def _is_peft(model):
    from peft import PeftModel

    return isinstance(model, PeftModel)


# --- attaching and generating ----------------------------------------------------------


def test_manager_is_shared_and_empty(decoder_lm):
    manager = decoder_lm.adapters
    assert manager.names() == []
    assert isinstance(manager, AdapterManager)
    assert decoder_lm.adapters is manager
    assert manager.names() == []
    assert manager.resolve(None) == "__base__"


def test_adapter_changes_outputs_and_two_adapters_differ(decoder_lm, adapter_dirs):
    lm = decoder_lm
    base_tokens = _tokens(lm, PROMPTS)
    base_logits = _logits(lm, PROMPTS[0])
    lm.adapters.add("alpha", adapter_dirs["dec_a"])
    lm.adapters.add("beta", adapter_dirs["dec_b"])
    assert lm.adapters.names() == ["alpha", "beta"]
    assert _is_peft(lm.model)
    assert not lm.model.training
    assert not any(p.requires_grad for p in lm.model.parameters())

    alpha_logits = _logits(lm, PROMPTS[0], "alpha")
    beta_logits = _logits(lm, PROMPTS[0], "beta")
    assert not torch.allclose(alpha_logits, base_logits, atol=1e-3)
    assert not torch.allclose(beta_logits, alpha_logits, atol=1e-3)
    torch.testing.assert_close(_logits(lm, PROMPTS[0], None), base_logits)

    alpha_tokens = _tokens(lm, PROMPTS, ["alpha"] * 3)
    beta_tokens = _tokens(lm, PROMPTS, ["beta"] * 3)
    assert alpha_tokens != base_tokens
    assert beta_tokens != alpha_tokens
    # Rows that ask for no adapter still get the base model.
    assert _tokens(lm, PROMPTS) == base_tokens
    assert _tokens(lm, PROMPTS, [None, "__base__", None]) == base_tokens


@pytest.mark.parametrize("model_fixture", ["decoder_lm", "t5_lm"])
def test_mixed_batch_matches_rows_run_alone(model_fixture, adapter_dirs, request):
    lm = request.getfixturevalue(model_fixture)
    prefix = "dec" if lm.kind == "causal" else "t5"
    lm.adapters.add("alpha", adapter_dirs[f"{prefix}_a"])
    lm.adapters.add("beta", adapter_dirs[f"{prefix}_b"])
    wanted = ["alpha", None, "beta"]
    mixed = _tokens(lm, PROMPTS, wanted)
    alone = [_tokens(lm, [p], [a])[0] for p, a in zip(PROMPTS, wanted, strict=True)]
    assert mixed == alone
    # Same prompts, other adapters per row: each row follows its own adapter.
    swapped = _tokens(lm, PROMPTS, ["beta", "alpha", None])
    alone = [
        _tokens(lm, [p], [a])[0] for p, a in zip(PROMPTS, ["beta", "alpha", None], strict=True)
    ]
    assert swapped == alone
    assert len({tuple(_tokens(lm, PROMPTS[:1], [a])[0]) for a in (None, "alpha", "beta")}) > 1


def test_t5_adapter_changes_outputs(t5_lm, adapter_dirs):
    base_logits = _logits(t5_lm, PROMPTS[0])
    t5_lm.adapters.add("alpha", adapter_dirs["t5_typed"])
    assert not torch.allclose(_logits(t5_lm, PROMPTS[0], "alpha"), base_logits, atol=1e-3)
    torch.testing.assert_close(_logits(t5_lm, PROMPTS[0]), base_logits)


@pytest.mark.parametrize("model_fixture", ["decoder_lm", "t5_lm"])
def test_merged_matches_adapter_and_leaves_original(model_fixture, adapter_dirs, request):
    lm = request.getfixturevalue(model_fixture)
    prefix = "dec" if lm.kind == "causal" else "t5"
    base_tokens = _tokens(lm, PROMPTS)
    lm.adapters.add("alpha", adapter_dirs[f"{prefix}_a"])
    lm.adapters.add("beta", adapter_dirs[f"{prefix}_b"])
    adapter_tokens = _tokens(lm, PROMPTS, ["alpha"] * 3)
    adapter_logits = _logits(lm, PROMPTS[0], "alpha")

    merged = lm.adapters.merged("alpha")
    assert merged is not lm
    assert not _is_peft(merged.model)
    assert merged.name.endswith("+alpha")
    assert merged.kind == lm.kind
    assert merged.tokenizer is lm.tokenizer
    assert merged.adapters.names() == []
    assert _tokens(merged, PROMPTS) == adapter_tokens
    torch.testing.assert_close(_logits(merged, PROMPTS[0]), adapter_logits, atol=1e-4, rtol=1e-4)

    # The original keeps both adapters and its base weights.
    assert lm.adapters.names() == ["alpha", "beta"]
    assert _tokens(lm, PROMPTS) == base_tokens
    assert _tokens(lm, PROMPTS, ["alpha"] * 3) == adapter_tokens


def test_remove_and_last_remove_restores_plain_model(decoder_lm, adapter_dirs):
    lm = decoder_lm
    base_model = lm.model
    base_tokens = _tokens(lm, PROMPTS)
    lm.adapters.add("alpha", adapter_dirs["dec_a"])
    lm.adapters.add("beta", adapter_dirs["dec_b"])
    beta_tokens = _tokens(lm, PROMPTS, ["beta"] * 3)

    lm.adapters.remove("alpha")
    assert lm.adapters.names() == ["beta"]
    assert _tokens(lm, PROMPTS, ["beta"] * 3) == beta_tokens
    with pytest.raises(AdapterError, match=r"Unknown adapter 'alpha'.*Attached: beta"):
        _tokens(lm, PROMPTS[:1], ["alpha"])
    with pytest.raises(AdapterError, match=r"No adapter named 'alpha'.*attached: beta"):
        lm.adapters.remove("alpha")

    lm.adapters.remove("beta")
    assert lm.adapters.names() == []
    assert lm.model is base_model
    assert not _is_peft(lm.model)
    assert not hasattr(lm.model, "peft_config")
    assert _tokens(lm, PROMPTS) == base_tokens
    # The same name can be attached again after removal.
    lm.adapters.add("alpha", adapter_dirs["dec_a"])
    assert _tokens(lm, PROMPTS[:1], ["alpha"]) != base_tokens[:1]


# --- errors ---------------------------------------------------------------------------


def test_missing_files(decoder_lm, adapter_dirs, tmp_path):
    lm = decoder_lm
    with pytest.raises(AdapterError, match=r"does not exist"):
        lm.adapters.add("alpha", tmp_path / "nope")
    no_config = tmp_path / "no_config"
    no_config.mkdir()
    shutil.copy(adapter_dirs["dec_a"] / "adapter_model.safetensors", no_config)
    with pytest.raises(AdapterError, match=r"no_config has no adapter_config\.json"):
        lm.adapters.add("alpha", no_config)
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    shutil.copy(adapter_dirs["dec_a"] / "adapter_config.json", no_weights)
    with pytest.raises(AdapterError, match=r"no_weights has no weights"):
        lm.adapters.add("alpha", no_weights)
    not_lora = tmp_path / "not_lora"
    shutil.copytree(adapter_dirs["dec_a"], not_lora)
    config = json.loads((not_lora / "adapter_config.json").read_text())
    config["peft_type"] = "IA3"
    (not_lora / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(AdapterError, match=r"peft_type='IA3'"):
        lm.adapters.add("alpha", not_lora)
    assert lm.adapters.names() == []
    assert not _is_peft(lm.model)


def test_name_clash_and_reserved_names(decoder_lm, adapter_dirs):
    lm = decoder_lm
    lm.adapters.add("alpha", adapter_dirs["dec_a"])
    tokens = _tokens(lm, PROMPTS, ["alpha"] * 3)
    with pytest.raises(AdapterError, match=r"'alpha' is already attached.*remove\('alpha'\)"):
        lm.adapters.add("alpha", adapter_dirs["dec_b"])
    assert _tokens(lm, PROMPTS, ["alpha"] * 3) == tokens
    with pytest.raises(AdapterError, match=r"'__base__' is reserved"):
        lm.adapters.add("__base__", adapter_dirs["dec_b"])
    with pytest.raises(AdapterError, match=r"Invalid adapter name 'a\.b'"):
        lm.adapters.add("a.b", adapter_dirs["dec_b"])
    assert lm.adapters.names() == ["alpha"]


@pytest.mark.parametrize("wrong", ["t5_a", "t5_typed", "small"])
@pytest.mark.parametrize("already_attached", [False, True])
def test_wrong_base_is_refused_and_model_still_works(
    decoder_lm, adapter_dirs, wrong, already_attached
):
    lm = decoder_lm
    base_tokens = _tokens(lm, PROMPTS)
    if already_attached:
        lm.adapters.add("alpha", adapter_dirs["dec_a"])
        alpha_tokens = _tokens(lm, PROMPTS, ["alpha"] * 3)
    expected = {"t5_a": "not in this model", "t5_typed": "SEQ_2_SEQ_LM", "small": r"\[4, 16\]"}
    with pytest.raises(AdapterError, match=expected[wrong]):
        lm.adapters.add("wrong", adapter_dirs[wrong])
    assert lm.adapters.names() == (["alpha"] if already_attached else [])
    assert _is_peft(lm.model) is already_attached
    assert _tokens(lm, PROMPTS) == base_tokens
    if already_attached:
        assert _tokens(lm, PROMPTS, ["alpha"] * 3) == alpha_tokens


def test_decoder_adapter_on_t5_is_refused(t5_lm, adapter_dirs):
    base_tokens = _tokens(t5_lm, PROMPTS)
    with pytest.raises(AdapterError, match="task_type='CAUSAL_LM'"):
        t5_lm.adapters.add("wrong", adapter_dirs["dec_b"])
    with pytest.raises(AdapterError, match="not in this model"):
        t5_lm.adapters.add("wrong", adapter_dirs["dec_a"])
    assert _tokens(t5_lm, PROMPTS) == base_tokens


@pytest.mark.parametrize("already_attached", [False, True])
def test_peft_failure_rolls_back(decoder_lm, adapter_dirs, monkeypatch, already_attached):
    """If peft itself fails half way (the shape check skipped), the model is restored."""
    lm = decoder_lm
    base_model = lm.model
    base_tokens = _tokens(lm, PROMPTS)
    if already_attached:
        lm.adapters.add("alpha", adapter_dirs["dec_a"])
        alpha_tokens = _tokens(lm, PROMPTS, ["alpha"] * 3)
    monkeypatch.setattr(adapters_module, "_check_fits", lambda *args: None)
    with pytest.raises(AdapterError, match=r"Could not load adapter .*left as it was"):
        lm.adapters.add("wrong", adapter_dirs["small"])
    assert lm.adapters.names() == (["alpha"] if already_attached else [])
    if not already_attached:
        assert lm.model is base_model
        assert not hasattr(lm.model, "peft_config")
    from peft.tuners.tuners_utils import BaseTunerLayer

    layers = [m for m in lm.model.modules() if isinstance(m, BaseTunerLayer)]
    assert all("wrong" not in m.lora_A for m in layers)
    assert bool(layers) is already_attached
    assert _tokens(lm, PROMPTS) == base_tokens
    if already_attached:
        assert _tokens(lm, PROMPTS, ["alpha"] * 3) == alpha_tokens


def test_unknown_adapter_lists_attached(decoder_lm, adapter_dirs, home):
    lm = decoder_lm
    lm.adapters.add("alpha", adapter_dirs["dec_a"])
    with pytest.raises(AdapterError, match=r"Unknown adapter 'gamma'.*Attached: alpha"):
        lm.adapters.resolve("gamma")
    with pytest.raises(AdapterError, match="Unknown adapter 'gamma'"):
        generate(lm, PROMPTS[:1], CONFIG, adapters=["gamma"])
    with pytest.raises(AdapterError, match="merged"):
        lm.adapters.merged(None)


# --- registry ---------------------------------------------------------------------------


def test_registry_round_trip(adapter_dirs, home):
    assert list_adapters() == {}
    path = register_adapter("alpha", adapter_dirs["dec_a"], base="tiny-decoder")
    assert path == adapter_dirs["dec_a"].resolve()
    assert (home / "adapters" / "registry.json").is_file()
    entry = json.loads((home / "adapters" / "registry.json").read_text())["alpha"]
    assert entry == {"path": str(path), "base": "tiny-decoder"}
    assert list_adapters() == {"alpha": path}
    assert find_adapter("alpha") == path
    assert find_adapter(str(adapter_dirs["dec_b"])) == adapter_dirs["dec_b"].resolve()

    # Directories under <cache>/adapters are found by name too.
    shutil.copytree(adapter_dirs["dec_b"], home / "adapters" / "beta")
    assert find_adapter("beta") == home / "adapters" / "beta"
    assert set(list_adapters()) == {"alpha", "beta"}

    unregister_adapter("alpha")
    assert set(list_adapters()) == {"beta"}
    with pytest.raises(AdapterError, match=r"No adapter 'alpha'.*Registered: none"):
        find_adapter("alpha")
    with pytest.raises(AdapterError, match=r"'alpha' is registered"):
        unregister_adapter("alpha")


def test_register_checks_the_directory(tmp_path, home, adapter_dirs):
    with pytest.raises(AdapterError, match="does not exist"):
        register_adapter("alpha", tmp_path / "nope")
    with pytest.raises(AdapterError, match="reserved"):
        register_adapter("__base__", adapter_dirs["dec_a"])
    moved = tmp_path / "moved"
    shutil.copytree(adapter_dirs["dec_a"], moved)
    register_adapter("alpha", moved)
    register_adapter("beta", adapter_dirs["dec_b"])
    shutil.rmtree(moved)
    with pytest.raises(AdapterError, match=r"registered at .*moved, which no longer exists"):
        find_adapter("alpha")
    with pytest.raises(AdapterError, match=r"Registered: alpha, beta"):
        find_adapter("gamma")


def test_registered_adapter_attaches_on_resolve(decoder_lm, adapter_dirs, home):
    lm = decoder_lm
    register_adapter("alpha", adapter_dirs["dec_a"])
    register_adapter("beta", adapter_dirs["dec_b"])
    assert lm.adapters.resolve("alpha") == "alpha"
    assert lm.adapters.names() == ["alpha"]
    # Once one is attached, generation attaches further registered names on first use.
    beta_tokens = _tokens(lm, PROMPTS, ["beta", None, "alpha"])
    assert lm.adapters.names() == ["alpha", "beta"]
    assert beta_tokens == _tokens(lm, PROMPTS, ["beta", None, "alpha"])
    # add() without a path looks the name up in the registry.
    lm.adapters.remove("beta")
    lm.adapters.add("beta")
    assert lm.adapters.names() == ["alpha", "beta"]


def test_generate_attaches_registered_adapter_when_none_attached(decoder_lm, adapter_dirs, home):
    register_adapter("alpha", adapter_dirs["dec_a"])
    generate(decoder_lm, PROMPTS[:1], CONFIG, adapters=["alpha"])
    assert decoder_lm.adapters.names() == ["alpha"]


def test_a_directory_path_attaches_under_a_stable_name(decoder_lm, adapter_dirs):
    path = str(adapter_dirs["dec_a"])
    name = decoder_lm.adapters.resolve(path)
    assert name.startswith(adapter_dirs["dec_a"].name) and "/" not in name
    assert decoder_lm.adapters.resolve(path) == name  # the same name, attached once
    assert decoder_lm.adapters.names() == [name]
    with_path = generate(decoder_lm, PROMPTS[:1], CONFIG, adapters=[path])
    with_name = generate(decoder_lm, PROMPTS[:1], CONFIG, adapters=[name])
    assert with_path[0].token_ids == with_name[0].token_ids


# --- LoRA on the CPU int8 path -------------------------------------------------------------


@pytest.mark.parametrize("path_fixture", ["tiny_decoder_path", "tiny_t5_path"])
def test_lora_runs_on_cpu_int8_layers(path_fixture, adapter_dirs, request):
    """peft's LoRA layer wraps localchain's int8 linear layers: the adapter changes the int8
    model's output the way it changes the float model's, rows of a mixed batch follow their
    own adapter, and a second adapter on other layers attaches too."""
    from localchain.models.loading import clear_model_cache, load_model
    from localchain.models.quantization import Int8WeightOnlyLinear

    path = str(request.getfixturevalue(path_fixture))
    prefix = "dec" if path_fixture == "tiny_decoder_path" else "t5"
    clear_model_cache()
    try:
        plain = load_model(path, device="cpu")
        int8 = load_model(path, device="cpu", quantization="int8")
        assert any(isinstance(m, Int8WeightOnlyLinear) for m in int8.model.modules())
        deltas = []
        for lm in (plain, int8):
            base = _logits(lm, PROMPTS[0])
            lm.adapters.add("alpha", adapter_dirs[f"{prefix}_a"])
            deltas.append(_logits(lm, PROMPTS[0], "alpha") - base)
        assert deltas[1].abs().max() > 1e-2  # the adapter does something on int8
        cosine = torch.nn.functional.cosine_similarity(deltas[0], deltas[1], dim=0)
        assert cosine > 0.95  # and the same thing as on the float model
        int8.adapters.add("beta", adapter_dirs[f"{prefix}_b"])  # other target modules
        wanted = ["alpha", None, "beta"]
        mixed = _tokens(int8, PROMPTS, wanted)
        assert mixed == [_tokens(int8, [p], [a])[0] for p, a in zip(PROMPTS, wanted, strict=True)]
        with pytest.raises(AdapterError, match="Could not merge"):
            int8.adapters.merged("alpha")  # int8 weights cannot absorb the float delta
    finally:
        clear_model_cache()
