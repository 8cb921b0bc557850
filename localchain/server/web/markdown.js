// A small Markdown renderer that builds DOM nodes and never parses HTML.
//
// Model output is data: every piece of text becomes a text node (document.createTextNode), so
// "<script>" or "<img onerror=...>" in a reply shows as those characters and never runs.
// Supported: fenced code blocks (an unclosed fence while streaming counts as open), headings,
// bullet and numbered lists, block quotes, paragraphs, `code`, **bold**, *italic*, and
// [links](https://...) to http(s) addresses only.
"use strict";

(function () {
  const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\n]+\*)|(\[[^\]\n]+\]\((https?:\/\/[^)\s]+)\))/g;

  function el(tag, className) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    return node;
  }

  function appendInline(parent, text) {
    let last = 0;
    INLINE.lastIndex = 0;
    for (let match = INLINE.exec(text); match; match = INLINE.exec(text)) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      const token = match[0];
      let node;
      if (match[1]) {
        node = el("code");
        node.textContent = token.slice(1, -1);
      } else if (match[2]) {
        node = el("strong");
        node.textContent = token.slice(2, -2);
      } else if (match[3]) {
        node = el("em");
        node.textContent = token.slice(1, -1);
      } else {
        node = el("a");
        node.textContent = token.slice(1, token.indexOf("]("));
        node.href = match[5];
        node.rel = "noopener noreferrer nofollow";
        node.target = "_blank";
      }
      parent.appendChild(node);
      last = match.index + token.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function appendLines(parent, lines) {
    lines.forEach((line, i) => {
      if (i > 0) parent.appendChild(el("br"));
      appendInline(parent, line);
    });
  }

  function renderBlocks(parent, text) {
    const lines = text.split("\n");
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) { i += 1; continue; }
      const heading = /^(#{1,6})\s+(.*)$/.exec(line);
      if (heading) {
        const node = el("h" + Math.min(6, heading[1].length + 2));
        appendInline(node, heading[2]);
        parent.appendChild(node);
        i += 1;
        continue;
      }
      const listKind = /^\s*[-*+]\s+/.test(line) ? "ul" : /^\s*\d+[.)]\s+/.test(line) ? "ol" : null;
      if (listKind) {
        const list = el(listKind);
        const pattern = listKind === "ul" ? /^\s*[-*+]\s+/ : /^\s*\d+[.)]\s+/;
        while (i < lines.length && pattern.test(lines[i])) {
          const item = el("li");
          appendInline(item, lines[i].replace(pattern, ""));
          list.appendChild(item);
          i += 1;
        }
        parent.appendChild(list);
        continue;
      }
      if (/^>\s?/.test(line)) {
        const quote = el("blockquote");
        const quoted = [];
        while (i < lines.length && /^>\s?/.test(lines[i])) quoted.push(lines[i++].replace(/^>\s?/, ""));
        appendLines(quote, quoted);
        parent.appendChild(quote);
        continue;
      }
      const paragraph = el("p");
      const body = [];
      while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*[-*+]\s|\s*\d+[.)]\s|>)/.test(lines[i])) {
        body.push(lines[i++]);
      }
      if (!body.length) body.push(lines[i++]);
      appendLines(paragraph, body);
      parent.appendChild(paragraph);
    }
  }

  // Render `text` as Markdown into a new <div>, safely.
  function renderMarkdown(text) {
    const root = el("div", "markdown");
    const fence = /^```([^\n`]*)\n?/m;
    let rest = String(text || "");
    while (rest.length) {
      const open = fence.exec(rest);
      if (!open) { renderBlocks(root, rest); break; }
      renderBlocks(root, rest.slice(0, open.index));
      const after = rest.slice(open.index + open[0].length);
      const close = after.search(/^```\s*$/m);
      const code = close === -1 ? after : after.slice(0, close);
      const pre = el("pre");
      const codeNode = el("code");
      const lang = open[1].trim();
      if (lang) codeNode.dataset.lang = lang.replace(/[^\w+-]/g, "");
      codeNode.textContent = code.replace(/\n$/, "");
      pre.appendChild(codeNode);
      root.appendChild(pre);
      rest = close === -1 ? "" : after.slice(close).replace(/^```\s*\n?/, "");
    }
    return root;
  }

  window.renderMarkdown = renderMarkdown;
})();
