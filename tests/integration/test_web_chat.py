"""The web chat app in a real headless Chromium (Debian's package, driven by Playwright).

The server is the real app under uvicorn on a loopback port; its scheduler is scripted (the
tiny model's text is noise), so replies are known: they stream slowly enough to watch and to
stop, and one of them carries markup that must render as text. `make browser` installs
Chromium; without it these tests skip, saying so.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from localchain.server import ServerConfig, create_app
from tests.unit.server.helpers import (
    ROOT,
    ScriptedScheduler,
    ServerThread,
    server_adapters,
    server_model_path,
)

__all__ = ["server_adapters", "server_model_path"]

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
XSS = (
    'Look: <script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> '
    "and **bold** text.\n\n```python\nprint('<b>hi</b>')\n```\n"
)
TOOL_REPLY = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
TOOLS = (
    '[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": '
    '"object", "properties": {"city": {"type": "string"}}}}}]'
)


def _reply(prompt: str, adapter: str | None) -> str:
    last = prompt.rsplit("<|im_start|>user", 1)[-1]
    if "You can call these tools" in prompt:
        return TOOL_REPLY
    if "xss" in last:
        return XSS
    if "long" in last:
        return "word " * 300
    return (
        f"Hello from **{adapter or 'base'}**! A list:\n\n- one\n- two\n\n"
        "```python\ndef add(a, b):\n    return a + b\n```\nDone."
    )


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lm(server_model_path, server_adapters):
    from localchain.models import load_model

    model = load_model(str(server_model_path), device="cpu")
    for name, path in server_adapters.items():
        if name not in model.adapters.names():
            model.adapters.add(name, path)
    return model


@pytest.fixture(scope="module")
def served(lm, tmp_path_factory):
    scheduler = ScriptedScheduler(reply=_reply, delay=0.02, piece_size=2)
    db = tmp_path_factory.mktemp("web") / "conversations.sqlite3"
    config = ServerConfig(model="unused", model_name="tiny-chat", db_path=db)
    with ServerThread(create_app(config, loaded=lm, scheduler=scheduler)) as server:
        yield server, scheduler


@pytest.fixture
def page(browser, served):
    server, _ = served
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    yield page
    context.close()
    assert errors == []


def _send(page, text):
    page.fill("#input", text)
    page.press("#input", "Enter")
    # The page marks itself busy synchronously in the Enter handler, so _wait_idle cannot
    # mistake the moment before the request (the conversation is still being created) for
    # the end of the reply; that race made two tests fail on a loaded CI machine.
    assert page.get_attribute("body", "data-busy") == "1"


def _last_reply(page):
    return page.locator(".message.assistant").last


def _wait_idle(page):
    page.wait_for_selector("body:not([data-busy='1'])", timeout=20_000)
    page.wait_for_selector("#send:not([hidden])", timeout=20_000)


def test_a_reply_streams_in_token_by_token(page):
    _send(page, "hi there")
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = _last_reply(page).inner_text() if page.locator(".message.assistant").count() else ""
        if text and (not seen or text != seen[-1]):
            seen.append(text)
        if page.get_attribute("body", "data-busy") != "1" and seen:
            break
        time.sleep(0.03)
    _wait_idle(page)
    assert len(seen) >= 4, seen  # several partial states before the whole reply
    reply = _last_reply(page)
    assert reply.locator("strong").inner_text() == "base"
    assert reply.locator("li").count() == 2
    assert "return a + b" in reply.locator("pre code").inner_text()


def test_stop_aborts_the_reply_and_the_server_stops_generating(page, served):
    _, scheduler = served
    _send(page, "a long one please")
    page.wait_for_selector(".message.assistant")
    deadline = time.monotonic() + 20
    while len(_last_reply(page).inner_text()) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    page.click("#stop")
    _wait_idle(page)
    assert "(stopped)" in _last_reply(page).inner_text()
    handle = scheduler.submissions[-1].handle
    deadline = time.monotonic() + 5
    while not handle.finished.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert handle.cancelled.is_set() and handle.finished.is_set()
    stopped_at = handle.emitted
    time.sleep(0.2)
    assert handle.emitted == stopped_at < len(handle.pieces)


def test_reload_finds_the_conversation_rename_and_delete(page, browser, served):
    server, _ = served
    _send(page, "remember me")
    _wait_idle(page)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    item = page.locator("#conversations li", has_text="remember me")
    assert item.count() == 1
    assert page.locator(".message.user", has_text="remember me").count() == 1
    assert page.locator(".message.assistant").count() == 1

    other = browser.new_context().new_page()  # a new session: nothing in sessionStorage
    other.goto(server.url)
    other.wait_for_selector("body[data-ready='1']")
    other.locator("#conversations li .title", has_text="remember me").click()
    other.wait_for_selector(".message.user")
    assert "remember me" in other.locator(".message.user").inner_text()
    other.context.close()

    item.locator("button.rename").click()
    page.fill("#conversations .rename-input", "Renamed chat")
    page.press("#conversations .rename-input", "Enter")
    page.wait_for_selector("#conversations li:has-text('Renamed chat')")
    titles = [c["title"] for c in httpx.get(f"{server.url}/app/conversations").json()["data"]]
    assert "Renamed chat" in titles
    page.locator("#conversations li", has_text="Renamed chat").locator("button.delete").click()
    page.wait_for_selector("#conversations li:has-text('Renamed chat')", state="detached")
    titles = [c["title"] for c in httpx.get(f"{server.url}/app/conversations").json()["data"]]
    assert "Renamed chat" not in titles


def test_switch_adapter(page, served):
    _, scheduler = served
    options = page.locator("#model option").all_inner_texts()
    assert any(o.startswith("alpha") and "adapter" in o for o in options), options
    page.select_option("#model", "alpha")
    _send(page, "who are you")
    _wait_idle(page)
    assert _last_reply(page).locator("strong").inner_text() == "alpha"
    assert scheduler.submissions[-1].adapter == "alpha"


def test_model_output_is_text_never_markup(page):
    _send(page, "xss please")
    _wait_idle(page)
    reply = _last_reply(page)
    assert page.evaluate("window.__xss") is None
    assert reply.locator("img, script").count() == 0
    text = reply.inner_text()
    assert "<script>window.__xss = 1</script>" in text and "<img src=x" in text
    assert reply.locator("strong").inner_text() == "bold"
    assert reply.locator("pre code").inner_text() == "print('<b>hi</b>')"


def test_tool_calls_are_shown_and_a_screenshot(page):
    _send(page, "Tell me about the markdown you can show")
    _wait_idle(page)
    page.click("#tools-settings summary")
    page.fill("#tools", TOOLS)
    _send(page, "What is the weather in Paris?")
    _wait_idle(page)
    call = _last_reply(page).locator(".tool-call")
    assert call.inner_text().startswith("Tool call: get_weather(")
    assert "Paris" in call.inner_text()
    page.click("#tools-settings summary")
    (ROOT / "build").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "build" / "web_chat.png"))
    assert (ROOT / "build" / "web_chat.png").stat().st_size > 10_000


def test_unreachable_server_is_explained(page):
    page.route("**/v1/chat/completions", lambda route: route.abort())
    _send(page, "anyone there?")
    page.wait_for_selector("#banner:not([hidden])")
    assert "Cannot reach the localchain server" in page.inner_text("#banner")


def test_api_key_is_asked_once_per_session(browser, lm, tmp_path):
    config = ServerConfig(
        model="unused", model_name="tiny-chat", api_key="k3y", db_path=tmp_path / "c.db"
    )
    scheduler = ScriptedScheduler(reply=_reply, delay=0.0)
    with ServerThread(create_app(config, loaded=lm, scheduler=scheduler)) as server:
        context = browser.new_context()
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#key-dialog[open]")
        page.fill("#key-input", "k3y")
        page.click("#key-save")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("#model option").count() == 3
        _send(page, "hi")
        _wait_idle(page)
        assert "Hello from" in _last_reply(page).inner_text()
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        assert not page.locator("#key-dialog").evaluate("d => d.open")
        context.close()
