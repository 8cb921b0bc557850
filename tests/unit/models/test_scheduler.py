"""The scheduler: rows join and leave a running batch, and concurrent callers get their own rows.

Every check compares against the same request run alone (float32, greedy), so a row that saw
another row's adapter, cache or tokens would differ.
"""

import asyncio
import threading

import pytest
import torch

from localchain.errors import QueueFullError
from localchain.models.generation import GenerationConfig, generate
from localchain.models.scheduler import Scheduler, get_scheduler

PROMPTS = [
    "The capital of France is",
    "hello",
    "Summarize: the cat sat on the mat and",
    "a b c d e f g",
]
CONFIG = GenerationConfig(max_new_tokens=10)


def _alone(lm, prompt, adapter=None, config=CONFIG):
    return generate(lm, [prompt], config, adapters=[adapter])[0].token_ids


@pytest.fixture
def loud_adapter(tiny_decoder_path, tmp_path):
    """A LoRA whose output differs from the base's on every prompt here (large random weights)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(7)
    model = AutoModelForCausalLM.from_pretrained(tiny_decoder_path)
    config = LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"])
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.normal_(0, 0.5)
    peft_model.save_pretrained(tmp_path / "loud")
    return tmp_path / "loud"


def test_a_row_joins_a_running_batch_and_both_match_running_alone(decoder_lm):
    scheduler = Scheduler(decoder_lm)
    first = scheduler.submit(PROMPTS[0], CONFIG)
    events = iter(first)
    pieces = [next(events) for _ in range(3)]  # three steps with one row
    assert scheduler.stats().running_rows == 1
    second = scheduler.submit(PROMPTS[2], GenerationConfig(max_new_tokens=6))
    pieces.append(next(events))  # this step admits the newcomer
    assert scheduler.stats().running_rows == 2
    rest = list(events)
    completion = (pieces + rest)[-1].completion
    assert completion.token_ids == _alone(decoder_lm, PROMPTS[0])
    assert "".join(e.text for e in pieces + rest) == completion.text
    config = GenerationConfig(max_new_tokens=6)
    assert second.result().token_ids == _alone(decoder_lm, PROMPTS[2], config=config)
    stats = scheduler.stats()
    assert (stats.running_rows, stats.queue_depth, stats.requests_finished) == (0, 0, 2)


def test_finished_and_cancelled_rows_leave_at_once(decoder_lm):
    scheduler = Scheduler(decoder_lm)
    short = scheduler.submit(PROMPTS[1], GenerationConfig(max_new_tokens=2))
    doomed = scheduler.submit(PROMPTS[3], CONFIG)
    keeper = scheduler.submit(PROMPTS[0], CONFIG)
    assert len(short.result().token_ids) <= 2
    assert scheduler.stats().running_rows == 2  # the short row has left
    doomed.cancel()
    assert doomed.done and doomed.cancelled
    assert scheduler.stats().running_rows == 1
    assert keeper.result().token_ids == _alone(decoder_lm, PROMPTS[0])
    assert list(doomed) == []  # a cancelled request yields nothing more


def test_a_full_queue_refuses_with_retry_after(decoder_lm):
    scheduler = Scheduler(decoder_lm, max_queue=2)
    waiting = [scheduler.submit(p, CONFIG) for p in PROMPTS[:2]]
    with pytest.raises(QueueFullError, match="max_queue=2") as caught:
        scheduler.submit(PROMPTS[2], CONFIG)
    assert caught.value.retry_after > 0
    assert [h.result().token_ids for h in waiting] == [_alone(decoder_lm, p) for p in PROMPTS[:2]]
    scheduler.submit(PROMPTS[2], CONFIG).result()  # room again


def test_max_batch_bounds_the_running_rows(decoder_lm):
    scheduler = Scheduler(decoder_lm, max_batch=2)
    handles = [scheduler.submit(p, CONFIG) for p in PROMPTS]
    first = iter(handles[0])
    next(first)
    assert scheduler.stats().running_rows == 2
    assert scheduler.stats().queue_depth == 2
    results = [h.result().token_ids for h in handles]
    assert results == [_alone(decoder_lm, p) for p in PROMPTS]


def test_threads_with_mixed_adapters_get_their_own_rows(decoder_lm, loud_adapter):
    decoder_lm.adapters.add("loud", loud_adapter)
    jobs = [(p, a) for p in PROMPTS for a in ("loud", None)]
    expected = {job: _alone(decoder_lm, *job) for job in jobs}
    assert any(expected[(p, "loud")] != expected[(p, None)] for p in PROMPTS)
    scheduler = get_scheduler(decoder_lm)
    got: dict[tuple[str, str | None], list[int]] = {}
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        got[job] = scheduler.submit(job[0], CONFIG, adapter=job[1]).result().token_ids

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert got == expected


def test_generate_from_two_threads_with_different_adapter_lists(decoder_lm, loud_adapter):
    decoder_lm.adapters.add("loud", loud_adapter)
    calls = {
        "a": (PROMPTS[:3], ["loud", None, "loud"]),
        "b": (PROMPTS[3:], [None]),
    }
    expected = {
        k: [c.token_ids for c in generate(decoder_lm, p, CONFIG, adapters=a)]
        for k, (p, a) in calls.items()
    }
    errors: list[BaseException] = []
    got: dict[str, list[list[int]]] = {}

    def run(key):
        try:
            for _ in range(3):
                prompts, adapters = calls[key]
                out = [
                    c.token_ids for c in generate(decoder_lm, prompts, CONFIG, adapters=adapters)
                ]
                assert out == expected[key]
            got[key] = out
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(k,)) for k in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert got == expected


def test_async_consumers_share_the_batch(decoder_lm):
    scheduler = Scheduler(decoder_lm)

    async def consume(prompt):
        pieces = [event async for event in scheduler.submit(prompt, CONFIG)]
        return pieces[-1].completion.token_ids, "".join(p.text for p in pieces)

    async def main():
        return await asyncio.gather(*(consume(p) for p in PROMPTS))

    results = asyncio.run(main())
    for prompt, (ids, text) in zip(PROMPTS, results, strict=True):
        assert ids == _alone(decoder_lm, prompt)
        assert text == decoder_lm.tokenizer.decode(ids, skip_special_tokens=True)
    assert scheduler.stats().running_rows == 0


def test_seq2seq_rows_join_a_running_batch(t5_lm):
    scheduler = Scheduler(t5_lm)
    first = scheduler.submit(PROMPTS[2], CONFIG)
    events = iter(first)
    pieces = [next(events) for _ in range(3)]
    second = scheduler.submit(PROMPTS[1], CONFIG)  # shorter input, fewer decoder tokens
    third = scheduler.submit(PROMPTS[3], CONFIG)
    pieces.append(next(events))
    assert scheduler.stats().running_rows == 3
    pieces += list(events)
    assert pieces[-1].completion.token_ids == _alone(t5_lm, PROMPTS[2])
    assert second.result().token_ids == _alone(t5_lm, PROMPTS[1])
    assert third.result().token_ids == _alone(t5_lm, PROMPTS[3])


def test_a_failing_row_processor_fails_only_its_request(decoder_lm):
    scheduler = Scheduler(decoder_lm)

    def broken(ids, scores):
        msg = "grammar exploded"
        raise RuntimeError(msg)

    bad = scheduler.submit(PROMPTS[0], CONFIG, processor=broken)
    good = scheduler.submit(PROMPTS[1], CONFIG)
    with pytest.raises(RuntimeError, match="grammar exploded"):
        list(bad)
    assert good.result().token_ids == _alone(decoder_lm, PROMPTS[1])


def test_empty_prompt_starts_from_the_start_token(decoder_lm):
    alone = generate(decoder_lm, [""], CONFIG)[0]
    batch = generate(decoder_lm, ["", "hello"], CONFIG)[0]
    assert alone.prompt_tokens == 1
    assert alone.token_ids == batch.token_ids


def test_one_chatlocal_from_eight_threads_matches_sequential_calls(
    decoder_lm, loud_adapter, tiny_decoder_path
):
    from localchain.models.chat import ChatLocal

    decoder_lm.adapters.add("loud", loud_adapter)
    chat = ChatLocal(model=str(tiny_decoder_path), device="cpu", max_new_tokens=8)
    jobs = [(PROMPTS[i // 2], "loud" if i % 2 else None) for i in range(8)]  # pairs: same prompt
    expected = [chat.invoke(p, adapter=a).content for p, a in jobs]
    assert any(expected[i] != expected[i + 1] for i in range(0, 8, 2))
    got: list[str | None] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(i):
        barrier.wait()
        got[i] = chat.invoke(jobs[i][0], adapter=jobs[i][1]).content

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert got == expected


def test_tokens_are_delivered_before_the_forward_pass_for_the_next(decoder_lm, monkeypatch):
    from localchain.models.decoding import DecodeBatch, make_row

    forwards = 0
    original = DecodeBatch._decode

    def counting_decode(self, chosen):
        nonlocal forwards
        forwards += 1
        return original(self, chosen)

    monkeypatch.setattr(DecodeBatch, "_decode", counting_decode)
    batch = DecodeBatch(decoder_lm)
    batch.add([make_row(decoder_lm, 0, PROMPTS[0], CONFIG)])
    seen: list[tuple[int, int]] = []  # (forwards before delivery, events delivered)
    returned = []
    while len(batch):
        returned += batch.step(lambda events: seen.append((forwards, len(events))))
    # Each step's token goes out before that step's forward pass: the first one right after
    # the prefill, with no decode forward yet; the last step (the row ends) returns its event.
    assert [f for f, _ in seen] == list(range(len(seen))) and len(seen) >= 3
    assert seen[0][1] == 1  # the first token's text, before any decode forward
    assert len(returned) == 1 and returned[0].done
    # The scheduler hands tokens out the same way; its text is unchanged.
    scheduler = Scheduler(decoder_lm)
    assert scheduler.submit(PROMPTS[0], CONFIG).result().token_ids == _alone(decoder_lm, PROMPTS[0])
