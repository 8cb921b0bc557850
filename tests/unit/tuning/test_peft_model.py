"""The trainable peft copy of the base, and the Trainer built around it, on the tiny models."""

from __future__ import annotations

import pytest
import torch

from localchain.errors import ConfigError
from localchain.tuning.config import TuneConfig
from localchain.tuning.hf_trainer import build_trainer
from localchain.tuning.peft_model import (
    TASK_TYPES,
    build_peft_model,
    default_target_modules,
    linear_module_names,
)


def _config(base, **fields):
    return TuneConfig(base=str(base), data="unused.jsonl", progress=False, **fields)


@pytest.fixture(scope="module")
def decoder(tiny_decoder_path):
    from localchain.models.loading import load_model

    return load_model(str(tiny_decoder_path), device="cpu")


def test_lora_copy_is_private_and_only_adapters_train(decoder, tiny_decoder_path):
    model = build_peft_model(_config(tiny_decoder_path, rank=4), decoder, torch.device("cpu"))
    trainable, total = model.get_nb_trainable_parameters()
    assert 0 < trainable < total
    assert model.get_base_model() is not decoder.model  # the shared base keeps serving
    config = model.peft_config["default"]
    assert config.task_type == TASK_TYPES["causal"] and config.r == 4
    assert sorted(config.target_modules) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    assert config.base_model_name_or_path == str(tiny_decoder_path)


def test_prompt_tuning_on_t5(tiny_t5_path):
    from localchain.models.loading import load_model

    loaded = load_model(str(tiny_t5_path), device="cpu")
    config = _config(tiny_t5_path, method="prompt-tuning", num_virtual_tokens=3)
    model = build_peft_model(config, loaded, torch.device("cpu"))
    assert model.peft_config["default"].num_virtual_tokens == 3
    assert model.peft_config["default"].task_type == "SEQ_2_SEQ_LM"


def test_target_modules_defaults_and_checks(decoder, tiny_decoder_path):
    from localchain.models.registry import model_class

    llama = model_class("causal").from_pretrained(tiny_decoder_path)
    assert default_target_modules(llama) == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert "down_proj" in default_target_modules(llama, mlp=True)
    assert {"q_proj", "gate_proj", "lm_head"} <= set(linear_module_names(llama))
    bad = _config(tiny_decoder_path, target_modules=["qq_proj"])
    with pytest.raises(ConfigError, match="not linear layers"):
        build_peft_model(bad, decoder, torch.device("cpu"))
    every = build_peft_model(
        _config(tiny_decoder_path, target_modules=["all-linear"]), decoder, torch.device("cpu")
    )
    names = {name.rsplit(".", 1)[-1] for name in every.peft_config["default"].target_modules}
    assert {"q_proj", "gate_proj"} <= names  # peft expands 'all-linear' to full module names


def test_trainer_steps_and_validation(decoder, tiny_decoder_path, tmp_path):
    config = _config(tiny_decoder_path, batch_size=2, grad_accum=2, epochs=3, rank=4)
    model = build_peft_model(config, decoder, torch.device("cpu"))
    rows = [{"input_ids": [1, 2, 3], "attention_mask": [1, 1, 1], "labels": [-100, 2, 3]}] * 8
    trainer = build_trainer(config, model, decoder, torch.device("cpu"), rows, rows[:2], tmp_path)
    args = trainer.args
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps) == (2, 2)
    assert args.eval_steps == 1 and args.load_best_model_at_end  # 8 rows / 4 per step * 3 = 6
    assert not args.bf16 and not args.fp16 and args.use_cpu
    no_val = build_trainer(config, model, decoder, torch.device("cpu"), rows, [], tmp_path)
    assert no_val.eval_dataset is None and not no_val.args.load_best_model_at_end


def test_group_by_length_batches_records_of_similar_length(decoder, tiny_decoder_path, tmp_path):
    config = _config(tiny_decoder_path, batch_size=4, rank=4, group_by_length=True)
    model = build_peft_model(config, decoder, torch.device("cpu"))
    lengths = [3, 40, 5, 38, 4, 41, 6, 39] * 8
    rows = [{"input_ids": [1] * n, "attention_mask": [1] * n, "labels": [1] * n} for n in lengths]
    trainer = build_trainer(config, model, decoder, torch.device("cpu"), rows, [], tmp_path)
    assert trainer.args.train_sampling_strategy == "group_by_length"
    order = list(trainer._get_train_sampler())
    assert sorted(order) == list(range(len(rows)))  # every record once
    plain = build_trainer(
        _config(tiny_decoder_path, batch_size=4, rank=4), model, decoder,
        torch.device("cpu"), rows, [], tmp_path,
    )  # fmt: skip
    assert plain.args.train_sampling_strategy == "random"

    def padding(sampler_order):
        batches = [sampler_order[k : k + 4] for k in range(0, len(sampler_order), 4)]
        return sum(4 * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches)

    # Records of similar length share batches: a fraction of the padding of random batches.
    assert padding(order) < 0.3 * padding(list(plain._get_train_sampler()))
