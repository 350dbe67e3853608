// A small Markdown renderer that builds DOM nodes and sets only textContent, so text from
// the model or the user can never become markup. Handles what the agent writes: fenced
// code blocks (```file path …), headings, lists, paragraphs, `code`, **bold**.

export function renderMarkdown(text) {
  const root = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n/g, "\n").split("\n");
  let i = 0;
  let paragraph = [];
  let list = null;

  const flushParagraph = () => {
    if (paragraph.length) {
      const p = document.createElement("p");
      appendInline(p, paragraph.join(" "));
      root.append(p);
      paragraph = [];
    }
  };
  const flushList = () => { if (list) { root.append(list); list = null; } };

  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(```+|~~~+)\s*(.*)$/);
    if (fence) {
      flushParagraph(); flushList();
      const marker = fence[1];
      const info = fence[2].trim();
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(marker)) { body.push(lines[i]); i += 1; }
      i += 1;
      const figure = document.createElement("div");
      const fileMatch = info.match(/^(?:file|path)\s+(.+)$/i);
      if (fileMatch) {
        const name = document.createElement("div");
        name.className = "file-name";
        name.textContent = fileMatch[1];
        figure.append(name);
      }
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = body.join("\n");
      pre.append(code);
      figure.append(pre);
      root.append(figure);
      continue;
    }
    const heading = line.match(/^(#{1,4})\s+(.*)$/);
    if (heading) {
      flushParagraph(); flushList();
      const h = document.createElement("h" + Math.min(6, heading[1].length + 2));
      appendInline(h, heading[2]);
      root.append(h);
      i += 1;
      continue;
    }
    const item = line.match(/^\s*(?:[-*+]|\d+[.)])\s+(.*)$/);
    if (item) {
      flushParagraph();
      if (!list) list = document.createElement(/^\s*\d/.test(line) ? "ol" : "ul");
      const li = document.createElement("li");
      appendInline(li, item[1]);
      list.append(li);
      i += 1;
      continue;
    }
    if (line.trim() === "") { flushParagraph(); flushList(); i += 1; continue; }
    flushList();
    paragraph.push(line.trim());
    i += 1;
  }
  flushParagraph(); flushList();
  return root;
}

function appendInline(parent, text) {
  const pattern = /(`[^`]+`|\*\*[^*]+\*\*)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parent.append(document.createTextNode(text.slice(last, match.index)));
    const token = match[0];
    const node = document.createElement(token.startsWith("`") ? "code" : "strong");
    node.textContent = token.startsWith("`") ? token.slice(1, -1) : token.slice(2, -2);
    parent.append(node);
    last = match.index + token.length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}
