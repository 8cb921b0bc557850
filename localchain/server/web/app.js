// The localchain web chat app: talks to this server's /v1 API and keeps conversations in
// /app/conversations (SQLite on the server). Plain JavaScript, no dependencies, no CDN.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    conversation: null, // {id, title, model, messages}
    controller: null, // AbortController of the reply being streamed
    models: [],
  };

  // -- talking to the server ----------------------------------------------------------------

  function headers(extra) {
    const h = Object.assign({ "Content-Type": "application/json" }, extra || {});
    const key = sessionStorage.getItem("localchain-api-key");
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }

  function showBanner(text) {
    const banner = $("banner");
    banner.textContent = text;
    banner.hidden = !text;
  }

  function askForKey() {
    return new Promise((resolve) => {
      const dialog = $("key-dialog");
      $("key-form").onsubmit = () => {
        const key = $("key-input").value.trim();
        if (key) sessionStorage.setItem("localchain-api-key", key);
        resolve(Boolean(key));
      };
      if (!dialog.open) dialog.showModal();
      $("key-input").focus();
    });
  }

  // fetch() with the key; asks for the key on 401 and retries; explains an unreachable server.
  async function call(path, options) {
    options = options || {};
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let response;
      try {
        response = await fetch(path, Object.assign({}, options, { headers: headers(options.headers) }));
      } catch (err) {
        if (err.name === "AbortError") throw err;
        showBanner("Cannot reach the localchain server at " + location.origin +
          ". Is `localchain serve` still running? Retrying when you send again.");
        throw err;
      }
      if (response.status === 401) {
        sessionStorage.removeItem("localchain-api-key");
        if (await askForKey()) continue;
      }
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
        showBanner("The server refused the request: " + message);
        const error = new Error(message);
        error.status = response.status;
        throw error;
      }
      return response;
    }
    throw new Error("No valid API key was given.");
  }

  async function json(path, options) {
    return (await call(path, options)).json();
  }

  // -- conversations ------------------------------------------------------------------------

  async function refreshConversations() {
    const list = (await json("/app/conversations")).data;
    const ul = $("conversations");
    ul.replaceChildren();
    for (const item of list) {
      const li = document.createElement("li");
      li.dataset.id = item.id;
      if (state.conversation && state.conversation.id === item.id) li.classList.add("active");
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = item.title;
      title.onclick = () => openConversation(item.id);
      const rename = document.createElement("button");
      rename.className = "rename";
      rename.title = "Rename";
      rename.textContent = "✎";
      rename.onclick = () => startRename(li, item);
      const remove = document.createElement("button");
      remove.className = "delete";
      remove.title = "Delete";
      remove.textContent = "✕";
      remove.onclick = () => deleteConversation(item.id);
      li.append(title, rename, remove);
      ul.appendChild(li);
    }
  }

  function startRename(li, item) {
    const input = document.createElement("input");
    input.className = "rename-input";
    input.value = item.title;
    li.replaceChildren(input);
    input.focus();
    input.select();
    const finish = async (save) => {
      input.onblur = null;
      if (save && input.value.trim()) {
        await json("/app/conversations/" + item.id, {
          method: "PATCH", body: JSON.stringify({ title: input.value.trim() }),
        });
      }
      await refreshConversations();
    };
    input.onkeydown = (event) => {
      if (event.key === "Enter") finish(true);
      if (event.key === "Escape") finish(false);
    };
    input.onblur = () => finish(true);
  }

  async function deleteConversation(id) {
    await call("/app/conversations/" + id, { method: "DELETE" });
    if (state.conversation && state.conversation.id === id) newConversation();
    await refreshConversations();
  }

  async function openConversation(id) {
    if (state.controller) state.controller.abort();
    state.conversation = await json("/app/conversations/" + id);
    if (state.conversation.model && state.models.includes(state.conversation.model)) {
      $("model").value = state.conversation.model;
    }
    sessionStorage.setItem("localchain-conversation", id);
    renderAll();
    await refreshConversations();
  }

  function newConversation() {
    state.conversation = null;
    sessionStorage.removeItem("localchain-conversation");
    renderAll();
    refreshConversations();
  }

  async function saveConversation() {
    const c = state.conversation;
    await json("/app/conversations/" + c.id, {
      method: "PATCH", body: JSON.stringify({ messages: c.messages, model: $("model").value }),
    });
  }

  // -- rendering ----------------------------------------------------------------------------

  function renderMessage(message) {
    const div = document.createElement("div");
    div.className = "message " + message.role;
    const role = document.createElement("div");
    role.className = "role";
    role.textContent = message.role === "assistant" && message.model ? "assistant · " + message.model : message.role;
    const body = document.createElement("div");
    body.className = "content";
    div.append(role, body);
    fillMessage(div, message);
    return div;
  }

  function fillMessage(div, message) {
    const body = div.querySelector(".content");
    body.replaceChildren(window.renderMarkdown(message.content || ""));
    for (const call of message.tool_calls || []) {
      const box = document.createElement("div");
      box.className = "tool-call";
      box.textContent = "Tool call: " + call.function.name + "(" + call.function.arguments + ")";
      body.appendChild(box);
    }
    if (message.stopped) {
      const note = document.createElement("div");
      note.className = "note";
      note.textContent = "(stopped)";
      body.appendChild(note);
    }
  }

  function renderAll() {
    const box = $("messages");
    box.replaceChildren();
    for (const message of (state.conversation && state.conversation.messages) || []) {
      box.appendChild(renderMessage(message));
    }
    box.scrollTop = box.scrollHeight;
  }

  // -- sending ------------------------------------------------------------------------------

  function readTools() {
    const text = $("tools").value.trim();
    if (!text) return null;
    try {
      const tools = JSON.parse(text);
      return Array.isArray(tools) && tools.length ? tools : null;
    } catch (err) {
      showBanner("The tools are not valid JSON: " + err.message);
      throw err;
    }
  }

  function requestMessages(messages) {
    return messages.map((m) => {
      const out = { role: m.role, content: m.content || "" };
      if (m.tool_calls && m.tool_calls.length) out.tool_calls = m.tool_calls;
      if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
      return out;
    });
  }

  async function send(text) {
    showBanner("");
    const model = $("model").value;
    const tools = readTools();
    // Busy at once, before the first await: a second Enter while the conversation is being
    // created must not send twice, and the page reads as busy until the reply is saved.
    setBusy(true);
    if (!state.conversation) {
      try {
        const title = text.replace(/\s+/g, " ").slice(0, 40) || "New chat";
        state.conversation = await json("/app/conversations", {
          method: "POST", body: JSON.stringify({ title, model, messages: [] }),
        });
        sessionStorage.setItem("localchain-conversation", state.conversation.id);
        await refreshConversations();
      } catch (err) {
        setBusy(false);
        throw err;
      }
    }
    const conversation = state.conversation;
    conversation.messages.push({ role: "user", content: text });
    const reply = { role: "assistant", content: "", model };
    const box = $("messages");
    box.appendChild(renderMessage(conversation.messages[conversation.messages.length - 1]));
    const replyDiv = renderMessage(reply);
    box.appendChild(replyDiv);
    box.scrollTop = box.scrollHeight;

    const body = {
      model,
      messages: requestMessages(conversation.messages),
      stream: true,
      stream_options: { include_usage: true },
      temperature: Number($("temperature").value),
      max_tokens: Number($("max-tokens").value),
    };
    if (tools) body.tools = tools;
    state.controller = new AbortController();
    const calls = [];
    try {
      const response = await call("/v1/chat/completions", {
        method: "POST", body: JSON.stringify(body), signal: state.controller.signal,
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let pending = false;
      const redraw = () => {
        pending = false;
        fillMessage(replyDiv, Object.assign({}, reply, { tool_calls: calls.filter(Boolean) }));
        box.scrollTop = box.scrollHeight;
      };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const data = line.slice(6);
            if (data === "[DONE]") continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message);
            for (const choice of chunk.choices || []) {
              const delta = choice.delta || {};
              if (delta.content) reply.content += delta.content;
              for (const part of delta.tool_calls || []) {
                const known = calls[part.index] || { id: part.id, type: "function", function: { name: "", arguments: "" } };
                if (part.function && part.function.name) known.function.name += part.function.name;
                if (part.function && part.function.arguments) known.function.arguments += part.function.arguments;
                calls[part.index] = known;
              }
            }
          }
        }
        if (!pending) { pending = true; requestAnimationFrame(redraw); }
      }
    } catch (err) {
      if (err.name === "AbortError") reply.stopped = true;
      else if (!reply.content) reply.content = "";
      if (err.name !== "AbortError" && !$("banner").textContent) showBanner(String(err.message || err));
    } finally {
      state.controller = null;
      if (calls.length) reply.tool_calls = calls.filter(Boolean);
      fillMessage(replyDiv, reply);
      if (state.conversation === conversation) {
        conversation.messages.push(reply);
        try { await saveConversation(); } catch (e) { /* banner shown */ }
      }
      setBusy(false); // after the save: a reload now finds the whole exchange
    }
  }

  function setBusy(busy) {
    $("send").hidden = busy;
    $("stop").hidden = !busy;
    document.body.dataset.busy = busy ? "1" : "";
  }

  // -- start --------------------------------------------------------------------------------

  async function loadModels() {
    const data = (await json("/v1/models")).data.filter((m) => m.kind !== "embedding");
    state.models = data.map((m) => m.id);
    const select = $("model");
    select.replaceChildren();
    for (const m of data) {
      const option = document.createElement("option");
      option.value = m.id;
      option.textContent = m.parent ? m.id + " (adapter on " + m.parent + ")" : m.id;
      select.appendChild(option);
    }
  }

  async function start() {
    $("composer").onsubmit = (event) => {
      event.preventDefault();
      const text = $("input").value.trim();
      if (!text || state.controller || document.body.dataset.busy === "1") return;
      $("input").value = "";
      send(text).catch(() => {});
    };
    $("input").onkeydown = (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    };
    $("stop").onclick = () => { if (state.controller) state.controller.abort(); };
    $("new-chat").onclick = newConversation;
    try {
      await loadModels();
      await refreshConversations();
      const last = sessionStorage.getItem("localchain-conversation");
      if (last) await openConversation(last).catch(() => newConversation());
      document.body.dataset.ready = "1";
    } catch (err) {
      document.body.dataset.ready = "error";
    }
  }

  start();
})();
