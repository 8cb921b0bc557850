"""LoRA adapters on a :class:`LoadedModel`: attach, detach, merge, and a registry of names.

:class:`AdapterManager` (reached as ``loaded.adapters``) wraps the model in a peft ``PeftModel``
on the first ``add`` so that one batch can mix rows for different adapters (generation passes
``adapter_names`` on every forward). Before peft touches the model, each adapter is checked
against it: its files, its task type, and the shape of every LoRA matrix against the layer it
targets, so an adapter trained for another base fails with an :class:`AdapterError` and leaves
the model as it was.

The registry maps names to adapter directories in ``<cache>/adapters/registry.json``; a
directory ``<cache>/adapters/<name>`` is found by name too.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localchain._cache import cache_dir
from localchain.errors import AdapterError
from localchain.models.registry import MODELS, base_mismatch

if TYPE_CHECKING:
    from localchain.models.loading import LoadedModel

CONFIG_FILE = "adapter_config.json"
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")
REGISTRY_FILE = "registry.json"
_TASK_TYPES = {"causal": "CAUSAL_LM", "seq2seq": "SEQ_2_SEQ_LM"}
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
# peft saves LoRA weights as "base_model.model.<module>.<lora part>.weight" (adapter name dropped).
_LORA_KEY_RE = re.compile(
    r"^base_model\.model\.(?P<module>.+)\."
    r"(?P<part>lora_A|lora_B|lora_embedding_A|lora_embedding_B)(?:\.weight)?$"
)
_REGISTRY_LOCK = threading.Lock()
BASE_ADAPTER = "__base__"
"""The adapter name peft uses for "no adapter" rows in a mixed batch."""
SHIPPED_ADAPTERS_DIR = Path(__file__).resolve().parents[1] / "adapters"
"""Task adapters that ship inside the package (``localchain/adapters/<name>/``)."""
TOOL_CALLS_ADAPTER = "tool-calls-smollm2"
"""The shipped tool-calling adapter (``ChatLocal(tool_adapter="auto")`` uses it)."""
METADATA_FILE = "localchain_adapter.json"
"""What ``localchain tune`` records about an adapter, beside its weights."""


class AdapterManager:
    """The LoRA adapters attached to one loaded model.

    Every mutation holds ``loaded.lock``. Attached adapters stay inactive for rows that ask for
    the base model: generation passes one adapter name (or ``"__base__"``) per row.
    """

    def __init__(self, loaded: LoadedModel) -> None:
        """Manage adapters for ``loaded`` (usually reached as ``loaded.adapters``).

        Args:
            loaded: The model whose ``model`` attribute becomes a ``PeftModel`` on the first add.
        """
        self._loaded = loaded

    def names(self) -> list[str]:
        """Names of the attached adapters, in the order they were added."""
        with self._loaded.lock:
            if not _is_peft(self._loaded.model):
                return []
            return list(self._loaded.model.peft_config)

    def add(self, name: str, path: str | os.PathLike[str] | None = None) -> None:
        """Load a peft LoRA adapter directory onto the model under ``name``.

        Args:
            name: The adapter's name in this model (letters, digits, ``_`` and ``-``).
            path: A directory holding ``adapter_config.json`` and ``adapter_model.safetensors``;
                None looks ``name`` up with :func:`find_adapter`.

        Raises:
            AdapterError: The name is taken or reserved, files are missing, or the adapter was
                made for another base model (the model is left as it was).
        """
        _check_name(name)
        directory = find_adapter(name) if path is None else Path(path).expanduser()
        with self._loaded.lock:
            if name in self.names():
                msg = (
                    f"An adapter named {name!r} is already attached to {self._loaded.name!r}; "
                    f"call adapters.remove({name!r}) first or pick another name."
                )
                raise AdapterError(msg)
            config = _read_lora_config(directory)
            self._check_task_type(config, directory)
            _check_fits(_base_module(self._loaded.model), _weight_shapes(directory), directory)
            self._check_base(config, directory)
            self._attach(name, directory, config)

    def remove(self, name: str) -> None:
        """Detach an adapter; removing the last one leaves the plain base model.

        Raises:
            AdapterError: No adapter by that name is attached.
        """
        with self._loaded.lock:
            attached = self.names()
            if name not in attached:
                msg = (
                    f"No adapter named {name!r} is attached to {self._loaded.name!r}; "
                    f"attached: {', '.join(attached) or 'none'}."
                )
                raise AdapterError(msg)
            if len(attached) == 1:
                self._loaded.model = _unload(self._loaded.model)
            else:
                _delete(self._loaded.model, name)

    def resolve(self, name: str | None) -> str:
        """Return the forward-pass adapter name for a request: ``"__base__"`` for None.

        A name that is not attached but that :func:`find_adapter` knows is attached first.

        Raises:
            AdapterError: The name is neither attached nor registered.
        """
        if name is None or name == BASE_ADAPTER:
            return BASE_ADAPTER
        with self._loaded.lock:
            attached = self.names()
            if name in attached:
                return name
            if Path(name).expanduser().is_dir():
                # A directory: attach it under a name made from its path (paths are not valid
                # peft adapter names), the same name every time.
                path = Path(name).expanduser().resolve()
                stem = re.sub(r"[^A-Za-z0-9_-]", "-", path.name) or "adapter"
                alias = f"{stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
                if alias not in attached:
                    self.add(alias, path)
                return alias
            try:
                path = find_adapter(name)
            except AdapterError as err:
                msg = (
                    f"Unknown adapter {name!r} for {self._loaded.name!r}. Attached: "
                    f"{', '.join(attached) or 'none'}; registered: "
                    f"{', '.join(list_adapters()) or 'none'}. Attach one with "
                    "adapters.add(name, path) or register it with register_adapter(name, path)."
                )
                raise AdapterError(msg) from err
            self.add(name, path)
            return name

    def merged(self, name: str) -> LoadedModel:
        """A new :class:`LoadedModel` with adapter ``name`` merged into a copy of the weights.

        This model is left untouched; the copy runs at base-model speed with one adapter baked
        in (no LoRA matmuls), which suits serving a single adapter.

        Args:
            name: An attached (or registered, which attaches it) adapter.

        Raises:
            AdapterError: The name is unknown, or the layers cannot be merged (e.g. int8 weights).
        """
        if name is None or name == BASE_ADAPTER:
            msg = (
                f"merged() needs an adapter name, got {name!r}; the base model is "
                f"{self._loaded.name!r} itself."
            )
            raise AdapterError(msg)
        with self._loaded.lock:
            self.resolve(name)
            try:
                clone = copy.deepcopy(self._loaded.model)
                model = clone.merge_and_unload(adapter_names=[name])
            except (ValueError, RuntimeError, TypeError, NotImplementedError) as err:
                msg = (
                    f"Could not merge adapter {name!r} into {self._loaded.name!r} "
                    f"(quantization={self._loaded.quantization!r}): {err}. Load the model "
                    "without quantization to merge, or serve the adapter unmerged."
                )
                raise AdapterError(msg) from err
        model.eval()
        model.requires_grad_(False)
        return self._loaded.with_model(model, name=f"{self._loaded.name}+{name}")

    def _check_task_type(self, config: dict[str, Any], directory: Path) -> None:
        task_type = config.get("task_type")
        expected = _TASK_TYPES.get(self._loaded.kind)
        if task_type is not None and task_type != expected:
            msg = (
                f"Adapter {directory} has task_type={task_type!r} but {self._loaded.name!r} is a "
                f"{self._loaded.kind} model (needs {expected!r}); use an adapter trained for "
                "this base model."
            )
            raise AdapterError(msg)

    def _check_base(self, config: dict[str, Any], directory: Path) -> None:
        """Refuse an adapter whose recorded base is clearly another model (family or size)."""
        recorded = config.get("base_model_name_or_path")
        if not isinstance(recorded, str) or not recorded.strip():
            return
        loaded = self._loaded
        base = _base_module(loaded.model)
        model_config = getattr(base, "config", None)
        names = [loaded.name, str(loaded.model_path)]
        spec = MODELS.get(loaded.name)
        if spec is not None:
            names.append(spec.repo_id)
        name_or_path = getattr(model_config, "_name_or_path", None)
        if isinstance(name_or_path, str) and name_or_path:
            names.append(name_or_path)
        n_params = sum(p.numel() for p in base.parameters())
        reason = base_mismatch(
            recorded,
            names=names,
            model_type=getattr(model_config, "model_type", None),
            n_params=n_params,
        )
        if reason is not None:
            msg = (
                f"Adapter {directory} was trained for {recorded!r} ({reason}); it does not fit "
                f"{loaded.name!r} even though its matrix shapes do. Use an adapter trained for "
                f"this base model, or fix base_model_name_or_path in {directory / CONFIG_FILE} "
                "if it names the wrong base."
            )
            raise AdapterError(msg)

    def _attach(self, name: str, directory: Path, config: dict[str, Any]) -> None:
        from peft import PeftConfig, PeftModel

        loaded = self._loaded
        first = not _is_peft(loaded.model)
        try:
            with warnings.catch_warnings():
                # peft names every layer type it has no class of its own for; the int8 one
                # gets peft's LoRA linear layer on purpose (see _lora_on_int8_layers).
                warnings.filterwarnings("ignore", message="Unsupported layer type")
                peft_config = PeftConfig.from_pretrained(str(directory))
                int8 = _lora_on_int8_layers(peft_config, loaded.model)
                if first:
                    # Pin the task type so the wrapper class matches the model kind.
                    peft_config.task_type = _TASK_TYPES.get(loaded.kind, peft_config.task_type)
                    loaded.model = PeftModel.from_pretrained(
                        loaded.model, str(directory), adapter_name=name, config=peft_config
                    )
                else:
                    if int8:  # load_adapter would read a config that cannot wrap them
                        peft_config.inference_mode = True
                        loaded.model.add_adapter(name, peft_config)
                    loaded.model.load_adapter(str(directory), adapter_name=name)
        except Exception as err:  # peft raises ValueError, RuntimeError, KeyError...
            self._roll_back(name, first)
            base = config.get("base_model_name_or_path")
            made_for = f" (adapter made for {base!r})" if base else ""
            detail = " ".join(str(err).split())
            detail = detail if len(detail) <= 400 else detail[:400] + "..."
            msg = (
                f"Could not load adapter {directory} onto {loaded.name!r}{made_for}: "
                f"{type(err).__name__}: {detail} Use an adapter trained for this base model; "
                "the model was left as it was."
            )
            raise AdapterError(msg) from err
        loaded.model.eval()
        loaded.model.requires_grad_(False)

    def _roll_back(self, name: str, first: bool) -> None:
        loaded = self._loaded
        if _is_peft(loaded.model):
            if first or list(loaded.model.peft_config) == [name]:
                loaded.model = _unload(loaded.model)
            elif name in loaded.model.peft_config:
                try:
                    _delete(loaded.model, name)
                except Exception:  # noqa: BLE001 - fall back to stripping the layers by hand
                    _strip_adapter_layers(_base_module(loaded.model), name)
            else:
                _strip_adapter_layers(_base_module(loaded.model), name)
        else:  # from_pretrained failed after injecting LoRA layers into the base in place
            _strip_adapter_layers(loaded.model, None)
        loaded.model.eval()
        loaded.model.requires_grad_(False)


# --- registry ---------------------------------------------------------------------------


def register_adapter(name: str, path: str | os.PathLike[str], *, base: str | None = None) -> Path:
    """Record ``name`` -> adapter directory in the localchain cache's adapter registry.

    Args:
        name: The name to find the adapter by (letters, digits, ``_`` and ``-``).
        path: A peft LoRA adapter directory.
        base: The base model it was trained for (informational, shown in errors).

    Returns:
        The absolute adapter directory recorded.

    Raises:
        AdapterError: The name is invalid or the directory is not a complete adapter.
    """
    _check_name(name)
    directory = Path(path).expanduser().resolve()
    _read_lora_config(directory)
    _weights_file(directory)
    with _REGISTRY_LOCK:
        entries = _read_registry()
        entries[name] = {"path": str(directory), "base": base}
        _write_registry(entries)
    return directory


def unregister_adapter(name: str) -> None:
    """Forget a registered adapter name (its files are left alone).

    Raises:
        AdapterError: The name is not registered.
    """
    with _REGISTRY_LOCK:
        entries = _read_registry()
        if name not in entries:
            msg = (
                f"No adapter named {name!r} is registered; registered: "
                f"{', '.join(sorted(entries)) or 'none'}."
            )
            raise AdapterError(msg)
        del entries[name]
        _write_registry(entries)


def list_adapters() -> dict[str, Path]:
    """Adapters findable by name: registered ones plus directories in ``<cache>/adapters``."""
    found: dict[str, Path] = {}
    root = cache_dir("adapters")
    for child in sorted(root.iterdir()):
        if child.is_dir() and (child / CONFIG_FILE).is_file():
            found[child.name] = child
    with _REGISTRY_LOCK:
        entries = _read_registry()
    for name, entry in sorted(entries.items()):
        found[name] = Path(entry["path"])
    return found


def find_adapter(name_or_path: str | os.PathLike[str]) -> Path:
    """Find an adapter directory: a path, a registered name, or ``<cache>/adapters/<name>``.

    Raises:
        AdapterError: Nothing matches (the message lists the registered names), or a registered
            directory no longer exists.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        return candidate.resolve()
    name = str(name_or_path)
    with _REGISTRY_LOCK:
        entries = _read_registry()
    if name in entries:
        path = Path(entries[name]["path"])
        if not path.is_dir():
            msg = (
                f"Adapter {name!r} is registered at {path}, which no longer exists; register it "
                f"again with register_adapter({name!r}, new_path) or unregister_adapter({name!r})."
            )
            raise AdapterError(msg)
        return path
    root = cache_dir("adapters")
    if _NAME_RE.match(name) and (root / name).is_dir():
        return root / name
    if _NAME_RE.match(name) and (SHIPPED_ADAPTERS_DIR / name / CONFIG_FILE).is_file():
        return SHIPPED_ADAPTERS_DIR / name
    msg = (
        f"No adapter {name!r}: not a directory, not registered, not in {root} and not "
        f"shipped with localchain ({', '.join(shipped_adapters()) or 'none'}). Registered: "
        f"{', '.join(sorted(entries)) or 'none'}. Pass a path, or register_adapter(name, path) "
        "first."
    )
    raise AdapterError(msg)


def shipped_adapters() -> dict[str, Path]:
    """The task adapters shipped inside the package, by name (e.g. ``"pal-smollm2"``)."""
    if not SHIPPED_ADAPTERS_DIR.is_dir():
        return {}
    return {
        path.name: path
        for path in sorted(SHIPPED_ADAPTERS_DIR.iterdir())
        if (path / CONFIG_FILE).is_file() and _NAME_RE.match(path.name)
    }


def shipped_adapter_fits(model: str, name: str) -> bool:
    """Whether the shipped adapter ``name`` was trained on the base model ``model``.

    The base is recognised by its identity: the registry name the adapter's metadata records
    against the name ``model`` resolves to (a path to the same files counts too).

    Args:
        model: A model name or path, as ``ChatLocal(model=...)`` takes it.
        name: A shipped adapter's name (``shipped_adapters()``).
    """
    from localchain.errors import LocalchainError
    from localchain.models.registry import resolve_model

    path = shipped_adapters().get(name)
    if path is None:
        return False
    try:
        meta = adapter_metadata(path)
        resolved = resolve_model(model)
        wanted = resolve_model(meta.get("base_resolved") or meta.get("base") or "")
    except LocalchainError:
        return False
    return (resolved.path, resolved.gguf_file) == (wanted.path, wanted.gguf_file)


def _lora_on_int8_layers(peft_config: Any, model: Any) -> bool:
    """Let peft wrap localchain's CPU int8 linear layers, if ``model`` has any.

    ``Int8WeightOnlyLinear`` is no ``nn.Linear``, so peft refuses it by default; its forward
    takes and returns float activations like one, so peft's own LoRA linear layer runs on top
    of it unchanged (base output plus ``B(A(x)) * scaling`` in float; mixed-adapter batches
    included). Registered per config through peft's custom-module API. Merging stays refused
    (int8 weights cannot absorb the float delta).

    Returns:
        Whether the model has int8 layers (and ``peft_config`` now wraps them).
    """
    from peft import LoraConfig
    from peft.tuners.lora.layer import Linear as LoraLinear

    from localchain.models.quantization import Int8WeightOnlyLinear

    int8 = any(isinstance(module, Int8WeightOnlyLinear) for module in model.modules())
    if int8 and isinstance(peft_config, LoraConfig):
        peft_config._register_custom_module({Int8WeightOnlyLinear: LoraLinear})
    return int8


def adapter_metadata(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """What ``localchain tune`` recorded about an adapter (``localchain_adapter.json``).

    Returns an empty dict for adapters made elsewhere (plain peft directories).

    Raises:
        AdapterError: The file exists but is not a JSON object.
    """
    path = Path(directory) / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        msg = f"Cannot read {path} ({err}); restore it from the adapter's source or delete it."
        raise AdapterError(msg) from err
    if not isinstance(data, dict):
        msg = f"{path} should hold a JSON object, not {type(data).__name__}."
        raise AdapterError(msg)
    return data


def _registry_path() -> Path:
    return cache_dir("adapters") / REGISTRY_FILE


def _read_registry() -> dict[str, dict[str, Any]]:
    path = _registry_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        msg = f"The adapter registry {path} is not valid JSON ({err}); fix or delete the file."
        raise AdapterError(msg) from err
    return {k: v for k, v in data.items() if isinstance(v, dict) and "path" in v}


def _write_registry(entries: dict[str, dict[str, Any]]) -> None:
    path = _registry_path()
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)  # atomic on one filesystem: readers never see half a file


# --- checks before peft touches the model --------------------------------------------------


def _check_name(name: str) -> None:
    if name == BASE_ADAPTER:
        msg = f"The adapter name {BASE_ADAPTER!r} is reserved for the base model; pick another."
        raise AdapterError(msg)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        msg = (
            f"Invalid adapter name {name!r}: use letters, digits, '_' and '-' only "
            "(peft cannot store names with '.' or '/')."
        )
        raise AdapterError(msg)


def read_adapter_config(directory: Path) -> dict[str, Any]:
    """A peft adapter directory's ``adapter_config.json``, read and checked.

    Raises:
        AdapterError: The directory or the file is missing, or the file is not a JSON object.
    """
    if not directory.is_dir():
        msg = f"Adapter directory {directory} does not exist; pass a peft adapter directory."
        raise AdapterError(msg)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        msg = (
            f"Adapter directory {directory} has no {CONFIG_FILE}; save the adapter with "
            "peft's save_pretrained()."
        )
        raise AdapterError(msg)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # JSONDecodeError, UnicodeDecodeError
        msg = (
            f"{config_path} is not valid JSON ({type(err).__name__}: {err}); the file is "
            "truncated or corrupt. Save the adapter again."
        )
        raise AdapterError(msg) from err
    if not isinstance(config, dict):
        msg = f"{config_path} holds a JSON {type(config).__name__}, not an object; save it again."
        raise AdapterError(msg)
    checked: dict[str, Any] = config
    return checked


def _read_lora_config(directory: Path) -> dict[str, Any]:
    """``read_adapter_config``, for a LoRA adapter only (the kind the engine attaches)."""
    config = read_adapter_config(directory)
    peft_type = config.get("peft_type")
    if peft_type != "LORA":
        msg = (
            f"Adapter {directory} has peft_type={peft_type!r}; only LoRA adapters ('LORA') "
            "are supported."
        )
        raise AdapterError(msg)
    return config


def _weights_file(directory: Path) -> Path:
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    msg = (
        f"Adapter directory {directory} has no weights ({' or '.join(WEIGHT_FILES)}); "
        "save the adapter with peft's save_pretrained()."
    )
    raise AdapterError(msg)


def _weight_shapes(directory: Path) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape in the adapter's weights, after checking they are all finite."""
    import torch

    weights = _weights_file(directory)
    try:
        if weights.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(weights))
        else:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            msg = f"holds a {type(state).__name__}, not a dict of tensors"
            raise TypeError(msg)  # reported with the file name below
        shapes = {str(k): tuple(v.shape) for k, v in state.items()}
    except Exception as err:  # a truncated, garbled or foreign file
        msg = (
            f"Could not read adapter weights {weights}: {err}. The file is truncated or "
            "corrupt; save the adapter again."
        )
        raise AdapterError(msg) from err
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        msg = (
            f"Adapter weights {weights} hold NaN or infinite values (in {shown}); the training "
            "diverged or the file is corrupt. Train again (e.g. with a lower learning rate) or "
            "use another checkpoint."
        )
        raise AdapterError(msg)
    return shapes


def _check_fits(base: Any, shapes: dict[str, tuple[int, ...]], directory: Path) -> None:
    """Check every LoRA matrix against the layer it targets, before injecting anything."""
    modules = dict(base.named_modules())
    problems: list[str] = []
    lora_keys = 0
    for key, shape in shapes.items():
        match = _LORA_KEY_RE.match(key)
        if match is None:
            continue
        lora_keys += 1
        module_name, part = match["module"], match["part"]
        module = modules.get(module_name)
        if module is None:
            problems.append(f"{module_name} (not in this model)")
            continue
        layer = module.get_base_layer() if hasattr(module, "get_base_layer") else module
        dims = _layer_dims(layer)
        if dims is None or len(shape) != 2:
            continue  # a layer type peft knows better (conv, int8...): peft checks it
        n_in, n_out = dims
        got, want = (
            (shape[1], n_in) if part in ("lora_A", "lora_embedding_A") else (shape[0], n_out)
        )
        if got != want:
            problems.append(f"{module_name}.{part} {list(shape)} vs layer ({n_in} -> {n_out})")
    if lora_keys == 0:
        msg = f"Adapter weights in {directory} hold no LoRA matrices; save the adapter again."
        raise AdapterError(msg)
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        msg = (
            f"Adapter {directory} does not fit this model (made for another base?): {shown}. "
            "Use an adapter trained for this base model."
        )
        raise AdapterError(msg)


def _layer_dims(layer: Any) -> tuple[int, int] | None:
    """(in, out) sizes of a linear-like or embedding layer, or None when unknown."""
    from torch import nn

    if isinstance(layer, nn.Embedding):
        return layer.num_embeddings, layer.embedding_dim
    if isinstance(layer, nn.Linear):
        return layer.in_features, layer.out_features
    if type(layer).__name__ == "Conv1D" and hasattr(layer, "nx"):  # transformers' GPT-2 layer
        return int(layer.nx), int(layer.nf)
    n_in, n_out = getattr(layer, "in_features", None), getattr(layer, "out_features", None)
    if isinstance(n_in, int) and isinstance(n_out, int):
        return n_in, n_out
    return None


# --- peft helpers --------------------------------------------------------------------------


def _is_peft(model: Any) -> bool:
    from peft import PeftModel

    return isinstance(model, PeftModel)


def _base_module(model: Any) -> Any:
    return model.get_base_model() if _is_peft(model) else model


def _delete(model: Any, name: str) -> None:
    """Delete one of several adapters, keeping the wrapper's active adapter valid."""
    with warnings.catch_warnings():  # "Adapter x was active ... Setting active adapter to y"
        warnings.filterwarnings("ignore", message="Adapter .* was active", category=UserWarning)
        model.delete_adapter(name)
    # peft 0.21 moves the tuner's active adapter but not PeftModel's own, whose forward then
    # looks up the deleted name.
    if model.active_adapter not in model.peft_config:
        model.set_adapter(next(iter(model.peft_config)), inference_mode=True)
    model.requires_grad_(False)


def _unload(model: Any) -> Any:
    """Unwrap a PeftModel into the plain base model, without merging anything."""
    base = model.unload()
    if hasattr(base, "peft_config"):
        del base.peft_config
    base.eval()
    base.requires_grad_(False)
    return base


def _strip_adapter_layers(model: Any, name: str | None) -> None:
    """Undo a half-done injection: drop adapter ``name`` (None: every LoRA layer) in place."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    for module_name, module in list(model.named_modules()):
        if not isinstance(module, BaseTunerLayer):
            continue
        if name is not None:
            for attr in (*module.adapter_layer_names, *module.other_param_names):
                store: Any = getattr(module, attr, None)
                if hasattr(store, "pop"):
                    store.pop(name, None)
            if any(getattr(module, attr) for attr in module.adapter_layer_names):
                continue
        parent_name, _, child = module_name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, module.get_base_layer())
    if name is None and hasattr(model, "peft_config"):
        del model.peft_config


__all__ = [
    "METADATA_FILE",
    "SHIPPED_ADAPTERS_DIR",
    "TOOL_CALLS_ADAPTER",
    "AdapterManager",
    "adapter_metadata",
    "find_adapter",
    "shipped_adapter_fits",
    "list_adapters",
    "register_adapter",
    "shipped_adapters",
    "unregister_adapter",
]
