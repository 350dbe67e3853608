// Server-sent events over fetch, so the token goes in the Authorization header (the
// browser's EventSource cannot send one). Reconnects with Last-Event-ID after a drop.

export function followEvents(url, token, onEvent, { onState = () => {} } = {}) {
  let lastId = 0;
  let stopped = false;
  let controller = null;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = { Authorization: "Bearer " + token, Accept: "text/event-stream" };
        if (lastId > 0) headers["Last-Event-ID"] = String(lastId);
        const response = await fetch(url, { headers, signal: controller.signal });
        if (!response.ok) {
          onState({ error: response.status });
          if (response.status === 401 || response.status === 404) return;
          throw new Error("HTTP " + response.status);
        }
        onState({ connected: true });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = parseFrame(frame);
            if (event && event.data !== undefined) {
              if (event.id) lastId = Number(event.id);
              try { onEvent(event.type, JSON.parse(event.data), lastId); } catch (error) { console.error(error); }
            }
          }
        }
      } catch (error) {
        if (stopped) return;
        onState({ connected: false });
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  connect();
  return { stop() { stopped = true; controller?.abort(); } };
}

function parseFrame(frame) {
  const event = { type: "message" };
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") event.id = value;
    else if (field === "event") event.type = value;
    else if (field === "data") event.data = event.data === undefined ? value : event.data + "\n" + value;
  }
  return event;
}
