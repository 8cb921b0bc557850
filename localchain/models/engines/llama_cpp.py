"""The llama.cpp engine: GGUF files run directly by llama-cpp-python (``localchain[llamacpp]``).

The GGUF is used as it is (no dequantized copy), its own chat template formats chats, and JSON
schema constraints become llama.cpp grammars. llama-cpp-python's high-level API decodes one
sequence at a time, so a batch runs its prompts one after another; one ``Llama`` object is shared
per process and settings, behind a lock because it is not thread safe.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localchain.errors import (
    AdapterError,
    ConfigError,
    ContextLengthError,
    MissingDependencyError,
    UnsupportedOnDeviceError,
)
from localchain.models.generation import Completion, GenerationConfig, StreamEvent
from localchain.models.registry import ModelKind, resolve_model

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

_LOADED: dict[tuple[Any, ...], LlamaCppEngine] = {}
_LOAD_LOCK = threading.Lock()
INSTALL_HINT = "pip install 'localchain[llamacpp]'"


def import_llama_cpp() -> Any:
    """Import llama-cpp-python, or explain how to install it.

    Raises:
        MissingDependencyError: llama-cpp-python is not installed.
    """
    try:
        import llama_cpp
    except ImportError as err:
        msg = f"The llama.cpp engine needs llama-cpp-python; install it with `{INSTALL_HINT}`."
        raise MissingDependencyError(msg) from err
    return llama_cpp


def gguf_path(model: str | os.PathLike[str]) -> tuple[str, Path]:
    """Find the GGUF file behind a registry name, a directory or a ``.gguf`` path.

    Returns:
        The model's display name and the GGUF file.

    Raises:
        ModelNotFoundError: No model by that name or path.
        ConfigError: The model has no GGUF file.
    """
    resolved = resolve_model(model)
    if resolved.gguf_file is not None:
        return resolved.name, resolved.path / resolved.gguf_file
    ggufs = sorted(resolved.path.glob("*.gguf")) if resolved.path.is_dir() else []
    if ggufs:
        return resolved.name, ggufs[0]
    msg = (
        f"Model {resolved.name!r} ({resolved.path}) has no GGUF file, and the llama.cpp engine "
        "runs GGUF files only: pass a .gguf file or a directory holding one, or use "
        "engine='transformers'."
    )
    raise ConfigError(msg)


def _gpu_layers(llama_cpp: Any, device: str) -> tuple[int, dict[str, Any]]:
    """Map a localchain device onto llama.cpp's ``n_gpu_layers`` (and ``main_gpu``)."""
    offload = bool(llama_cpp.llama_supports_gpu_offload())
    if device == "cpu" or (device == "auto" and not offload):
        return 0, {}
    if device == "auto":
        return -1, {}
    if device.startswith("cuda"):
        if not offload:
            msg = (
                f"device={device!r}, but this llama-cpp-python build has no GPU support; use "
                "device='cpu', or reinstall it with CMAKE_ARGS='-DGGML_CUDA=on'."
            )
            raise UnsupportedOnDeviceError(msg)
        index = device.partition(":")[2]
        return -1, ({"main_gpu": int(index)} if index else {})
    msg = f"Unknown device {device!r}; use 'auto', 'cpu' or 'cuda[:N]'."
    raise ConfigError(msg)


def _default_threads() -> int:
    # llama-cpp-python defaults to half the cores; a decode on a small CPU wants them all.
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class LlamaCppEngine:
    """Serves a GGUF file through llama-cpp-python behind the common engine interface.

    Differences from the transformers engine: no LoRA adapters, no quantization setting (the GGUF
    file is already quantized), and ``generate`` runs a batch one prompt at a time.
    """

    kind: ModelKind = "causal"

    def __init__(self, llama: Llama, *, name: str, gguf: Path) -> None:
        """Wrap an already constructed ``llama_cpp.Llama``."""
        self.llama = llama
        self.name = name
        self.model_path: Path = gguf
        """The GGUF file itself."""
        # llama.cpp may pad a small n_ctx (e.g. 64 to 256) while llama-cpp-python sizes its token
        # buffer by the n_ctx asked for: the smaller of the two is the real window.
        self.context_length: int = min(int(llama.n_ctx()), len(llama.input_ids))
        self.lock = threading.RLock()
        self._grammars: dict[str, LlamaGrammar] = {}
        self._formatter = self._chat_formatter()

    @classmethod
    def load(
        cls,
        model: str | os.PathLike[str],
        *,
        device: str = "auto",
        quantization: str | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        **options: Any,
    ) -> LlamaCppEngine:
        """Load a GGUF model with llama.cpp, once per process and settings.

        Args:
            model: A registry name with a GGUF copy (such as "smollm2-135m-instruct"), a
                ``.gguf`` file, or a directory holding one.
            device: "auto" (all layers on the GPU when the build supports it), "cpu" or
                "cuda[:N]".
            quantization: Must be None: a GGUF file is already quantized.
            n_ctx: Context window in tokens (prompt plus reply).
            n_threads: CPU threads for decoding; None uses every available core.
            **options: Further ``llama_cpp.Llama`` arguments (e.g. ``n_batch``, ``flash_attn``).

        Raises:
            ConfigError: ``quantization`` was given, or the model has no GGUF file.
            MissingDependencyError: llama-cpp-python is not installed.
            ModelNotFoundError: No model by that name or path.
            UnsupportedOnDeviceError: A GPU was asked of a CPU-only build.
        """
        if quantization is not None:
            msg = (
                f"quantization={quantization!r} does not apply to the llama.cpp engine: a GGUF "
                "file is already quantized. Pick a GGUF file of the precision you want, or use "
                "engine='transformers' to quantize a checkpoint."
            )
            raise ConfigError(msg)
        name, gguf = gguf_path(model)
        llama_cpp = import_llama_cpp()
        if name in _registry_names() and os.environ.get("LOCALCHAIN_BLOCK_NAMED_MODELS") == "1":
            msg = (
                f"Loading the named model {name!r} is blocked in this test run "
                "(LOCALCHAIN_BLOCK_NAMED_MODELS=1): mark the test `@pytest.mark.slow`."
            )
            raise ConfigError(msg)
        n_gpu_layers, gpu_options = _gpu_layers(llama_cpp, device)
        threads = n_threads or _default_threads()
        settings = {"n_gpu_layers": n_gpu_layers, **gpu_options, **options}
        key = (str(gguf.resolve()), n_ctx, threads, tuple(sorted(settings.items(), key=str)))
        with _LOAD_LOCK:
            engine = _LOADED.get(key)
            if engine is None:
                try:
                    llama = llama_cpp.Llama(
                        model_path=str(gguf),
                        n_ctx=n_ctx,
                        n_threads=threads,
                        verbose=False,
                        **settings,
                    )
                except TypeError as err:
                    msg = f"Unknown llama.cpp option(s) in {sorted(options)}: {err}"
                    raise ConfigError(msg) from err
                engine = cls(llama, name=name, gguf=gguf)
                _LOADED[key] = engine
            return engine

    # -- prompts and tokens -----------------------------------------------------------------

    def _chat_formatter(self) -> Any:
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def token_text(token: int) -> str:
            return self.llama._model.token_get_text(token) if token != -1 else ""

        return Jinja2ChatFormatter(
            template=template,
            eos_token=token_text(self.llama.token_eos()),
            bos_token=token_text(self.llama.token_bos()),
            add_generation_prompt=True,
        )

    def format_chat(self, messages: Sequence[dict[str, Any]]) -> str:
        """Render messages with the GGUF's own chat template (``tokenizer.chat_template``).

        A GGUF without a template gets the FLAN-style prompt the transformers engine uses for
        models without one.
        """
        if self._formatter is None:
            from localchain.models.engines.transformers import flan_prompt

            return flan_prompt(messages)
        prompt: str = self._formatter(messages=list(messages)).prompt
        return prompt

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes with the GGUF's tokenizer (no BOS added)."""
        return len(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` under the GGUF's tokenizer (no BOS added)."""
        with self.lock:
            return list(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _encode(self, prompt: str, config: GenerationConfig, chat: bool, index: int) -> list[int]:
        if not isinstance(prompt, str):
            msg = f"Prompts must be strings, got {type(prompt).__name__}."
            raise ConfigError(msg)
        # A chat template writes its own BOS, as the transformers engine's add_special_tokens.
        ids: list[int] = self.llama.tokenize(prompt.encode("utf-8"), add_bos=not chat, special=True)
        if not ids:
            bos = self.llama.token_bos()
            ids = [bos if bos != -1 else self.llama.token_eos()]
        limit = self.context_length - 1  # llama.cpp needs room for at least one new token
        if len(ids) <= limit:
            return ids
        if config.truncation == "left":
            return ids[-max(1, limit - min(config.max_new_tokens, limit // 2)) :]
        msg = (
            f"Prompt {index} has {len(ids)} tokens but {self.name!r} runs with a context window "
            f"of {self.context_length} tokens (n_ctx); shorten it, load with a larger n_ctx, or "
            "pass truncation='left' to drop the oldest tokens."
        )
        raise ContextLengthError(msg)

    def _grammar(self, schema: dict[str, Any] | None) -> LlamaGrammar | None:
        if schema is None:
            return None
        text = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(text)
        if grammar is None:
            from llama_cpp import LlamaGrammar

            try:
                grammar = LlamaGrammar.from_json_schema(text, verbose=False)
            except (ValueError, KeyError, TypeError, RuntimeError) as err:
                msg = f"llama.cpp cannot turn this JSON schema into a grammar: {err}"
                raise ConfigError(msg) from err
            self._grammars[text] = grammar
        return grammar

    def _completion_args(
        self, ids: list[int], config: GenerationConfig, schema: dict[str, Any] | None
    ) -> dict[str, Any]:
        greedy = config.temperature == 0
        return {
            "prompt": ids,
            "max_tokens": min(config.max_new_tokens, self.context_length - len(ids)),
            "temperature": config.temperature,
            "top_k": 1 if greedy else config.top_k,  # llama.cpp: top_k <= 0 keeps every token
            "top_p": config.top_p,
            # Off, so sampling means the same as in the transformers engine.
            "min_p": 0.0,
            "typical_p": 1.0,
            "repeat_penalty": 1.0,
            "seed": config.seed if config.seed is not None else secrets.randbits(32),
            "stop": [s for s in config.stop if s] or None,
            "grammar": self._grammar(schema),
        }

    # -- generation -------------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[str],
        config: GenerationConfig,
        *,
        adapters: Sequence[str | None] | None = None,
        schemas: Sequence[dict[str, Any] | None] | None = None,
        chat: bool = False,
    ) -> list[Completion]:
        """Generate one completion per prompt, one prompt after another.

        llama-cpp-python's high-level API has no batched decoding, so a batch costs the sum of
        its prompts; the KV cache of a shared prompt prefix is reused between them.

        Args:
            prompts: Prompt strings, already formatted (``format_chat``) for chat use.
            config: Length, sampling (temperature 0 is greedy), seed and stop strings.
            adapters: Must name no adapter (None entries only).
            schemas: Per prompt, a JSON schema the reply must follow (a llama.cpp grammar).
            chat: The prompts come from ``format_chat`` (no BOS is added).

        Raises:
            AdapterError: An adapter was named.
            ContextLengthError: A prompt does not fit ``n_ctx`` (and truncation="error").
        """
        _check_adapters(adapters)
        if schemas is not None and len(schemas) != len(prompts):
            msg = f"Got {len(schemas)} schemas for {len(prompts)} prompts; give one per prompt."
            raise ConfigError(msg)
        completions = []
        with self.lock:
            # Check every prompt against the window before spending time on any of them.
            encoded = [self._encode(p, config, chat, i) for i, p in enumerate(prompts)]
            for index, ids in enumerate(encoded):
                args = self._completion_args(ids, config, schemas[index] if schemas else None)
                response = self.llama.create_completion(**args)
                choice, usage = response["choices"][0], response["usage"]
                completions.append(
                    Completion(
                        text=choice["text"],
                        prompt_tokens=usage["prompt_tokens"],
                        completion_tokens=usage["completion_tokens"],
                        finish_reason="length" if choice["finish_reason"] == "length" else "stop",
                    )
                )
        return completions

    def stream(
        self,
        prompt: str,
        config: GenerationConfig,
        *,
        adapter: str | None = None,
        schema: dict[str, Any] | None = None,
        chat: bool = False,
    ) -> Iterator[StreamEvent]:
        """Stream one completion through ``create_completion(stream=True)``.

        The engine's lock is held until the stream is exhausted or closed. The last event has
        ``done=True``, empty text and the Completion.

        Raises:
            AdapterError: An adapter was named.
            ContextLengthError: The prompt does not fit ``n_ctx`` (and truncation="error").
        """
        _check_adapters([adapter])
        with self.lock:
            ids = self._encode(prompt, config, chat, 0)
            args = self._completion_args(ids, config, schema)
            calls = 0

            def count(_ids: Any, _logits: Any) -> bool:
                nonlocal calls
                calls += 1
                return False

            from llama_cpp import StoppingCriteriaList

            args["stopping_criteria"] = StoppingCriteriaList([count])
            pieces: list[str] = []
            finish = "length"
            for chunk in self.llama.create_completion(stream=True, **args):
                choice = chunk["choices"][0]
                if choice["text"]:
                    pieces.append(choice["text"])
                    yield StreamEvent(0, choice["text"])
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
            text = "".join(pieces)
            completion = Completion(
                text=text,
                prompt_tokens=len(ids),
                # Called once per sampled token, and once more after the last.
                completion_tokens=self._streamed_tokens(ids, calls - 1, finish, text),
                finish_reason="length" if finish == "length" else "stop",
            )
            yield StreamEvent(0, "", done=True, completion=completion)

    def _streamed_tokens(self, ids: list[int], sampled: int, finish: str, text: str) -> int:
        """Tokens in a streamed reply (llama.cpp's stream carries no usage).

        ``sampled`` counts every token drawn, including an end-of-sequence token, which the
        reply does not contain. The reply ended on one when it is exactly the text of the tokens
        before the last (those llama.cpp evaluated), rather than text cut at a stop string.
        """
        if finish == "length" or sampled == 0:
            return sampled
        before = self.llama.input_ids[len(ids) : len(ids) + sampled - 1].tolist()
        prior = self.llama.detokenize(before, prev_tokens=ids).decode("utf-8", errors="ignore")
        return sampled - 1 if prior == text else sampled


def _check_adapters(adapters: Sequence[str | None] | None) -> None:
    named = sorted({a for a in adapters or [] if a})
    if named:
        msg = (
            f"Adapter(s) {named} requested, but the llama.cpp engine serves no LoRA adapters; "
            "use engine='transformers'."
        )
        raise AdapterError(msg)


def _registry_names() -> set[str]:
    from localchain.models.registry import MODELS

    return set(MODELS)


def clear_engine_cache() -> None:
    """Forget every loaded llama.cpp model (freed once nothing else refers to them)."""
    with _LOAD_LOCK:
        _LOADED.clear()


__all__ = ["LlamaCppEngine", "clear_engine_cache", "gguf_path", "import_llama_cpp"]
