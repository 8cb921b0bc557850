"""LocalLLM: a LangChain text-completion model (``BaseLLM``) served by a local model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseLLM
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from pydantic import ConfigDict

from localchain.models.local_model import LocalModelSettings, iterate_in_thread


class LocalLLM(LocalModelSettings, BaseLLM):
    """Plain prompt-in, text-out completion on a local model; a batch runs as one batch.

    Example:
        .. code-block:: python

            from localchain import LocalLLM

            llm = LocalLLM(max_new_tokens=20)
            llm.invoke("The capital of France is")
    """

    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())

    @property
    def _llm_type(self) -> str:
        return "localchain-llm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "adapter": self.adapter, "engine": self.engine}

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        adapter = kwargs.pop("adapter", self.adapter)
        config = self._generation_config(stop, **kwargs)
        completions = self._get_engine().generate(
            prompts, config, adapters=[adapter] * len(prompts)
        )
        generations = [
            [
                Generation(
                    text=c.text,
                    generation_info={
                        "finish_reason": c.finish_reason,
                        "prompt_tokens": c.prompt_tokens,
                        "completion_tokens": c.completion_tokens,
                    },
                )
            ]
            for c in completions
        ]
        usage = {
            "prompt_tokens": sum(c.prompt_tokens for c in completions),
            "completion_tokens": sum(c.completion_tokens for c in completions),
        }
        return LLMResult(generations=generations, llm_output={"token_usage": usage})

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        adapter = kwargs.pop("adapter", self.adapter)
        config = self._generation_config(stop, **kwargs)
        for event in self._get_engine().stream(prompt, config, adapter=adapter):
            info = None
            if event.done and event.completion is not None:
                info = {
                    "finish_reason": event.completion.finish_reason,
                    "prompt_tokens": event.completion.prompt_tokens,
                    "completion_tokens": event.completion.completion_tokens,
                }
            chunk = GenerationChunk(text=event.text, generation_info=info)
            if run_manager is not None and event.text:
                run_manager.on_llm_new_token(event.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        # The whole stream runs in one worker thread (see ``iterate_in_thread``).
        sync_manager = run_manager.get_sync() if run_manager is not None else None
        async for chunk in iterate_in_thread(
            lambda: self._stream(prompt, stop, sync_manager, **kwargs)
        ):
            yield chunk
