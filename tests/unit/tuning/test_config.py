import json

import pytest

from localchain.errors import ConfigError
from localchain.tuning.config import TuneConfig, build_config


def test_defaults_and_derived_values():
    config = TuneConfig(base="smollm2-135m-instruct", data="data/units.jsonl")
    assert config.method == "lora" and config.rank == 8 and config.val_split == 0.1
    assert config.resolved_learning_rate == 2e-4
    assert config.adapter_name() == "smollm2-135m-instruct-lora-units"
    prompt = TuneConfig(base="/x/my model", data="d.jsonl", method="prompt-tuning")
    assert prompt.resolved_learning_rate == 3e-2
    assert prompt.adapter_name() == "my-model-prompt-tuning-d"


def test_unknown_and_invalid_fields_raise_config_error():
    with pytest.raises(ConfigError, match="ranks"):
        build_config({"base": "b", "data": "d", "ranks": 4})
    with pytest.raises(ConfigError, match="method"):
        build_config({"base": "b", "data": "d", "method": "full"})
    with pytest.raises(ConfigError, match="name"):
        build_config({"base": "b", "data": "d", "name": "a/b"})
    with pytest.raises(ConfigError, match="val_split"):
        build_config({"base": "b", "data": "d", "val_split": 1.5})


def test_from_file_with_overrides(tmp_path):
    path = tmp_path / "tune.json"
    path.write_text(json.dumps({"base": "b", "data": "d.jsonl", "rank": 4}))
    config = TuneConfig.from_file(path, rank=16)
    assert config.rank == 16 and config.base == "b"
    with pytest.raises(ConfigError, match="Cannot read"):
        TuneConfig.from_file(tmp_path / "missing.json")
